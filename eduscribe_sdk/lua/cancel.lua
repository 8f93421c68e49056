-- cancel: a job that has not finished; its waiting dependents are skipped.
-- A running job is marked at once; its worker stops at the next progress report.
-- args: id ; returns how many dependents were skipped
register('cancel', function(args)
  local id = args[1]
  local j = load(id)
  if not j then return refuse('NOTFOUND', id) end
  if not can(j.status, 'cancelled') then return refuse('ILLEGAL', 'cancel ' .. id .. ' ' .. j.status) end
  local now = now_s()
  redis.call('ZREM', queue_key(j.priority), id)
  redis.call('ZREM', k_delayed(), id)
  finish(j, 'cancelled', now, {'error_message', 'cancelled'})
  emit(j, 'cancelled', now)
  return skip_descendants(id, 'dependency ' .. id .. ' was cancelled', now)
end)
