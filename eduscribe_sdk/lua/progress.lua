-- progress: records progress of a running attempt; tells the worker when the job was
-- cancelled ('cancelled') or when the attempt no longer owns the job ('stale').
-- args: id, attempt, progress (0-100)
register('progress', function(args)
  local id, attempt, progress = args[1], args[2], tonumber(args[3])
  local v = redis.call('HMGET', k_job(id), 'status', 'attempt', 'progress')
  if v[2] ~= attempt then return 'stale' end
  if v[1] == 'cancelled' then return 'cancelled' end
  if v[1] ~= 'processing' then return 'stale' end
  if tonumber(v[3]) ~= progress then
    local now = now_s()
    local j = load(id)
    redis.call('HSET', k_job(id), 'progress', progress, 'updated_at', stamp(now))
    emit(j, 'progress', now, progress)
  end
  return 'ok'
end)
