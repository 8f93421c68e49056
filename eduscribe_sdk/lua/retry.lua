-- retry: puts a failed, cancelled or skipped job back in line, together with the unfinished
-- ancestors it needs and the skipped dependents that were waiting on it.
-- args: id ; returns every job id that was reset

-- Whether a job in status `s` can be retried: TRANSITIONS lets it wait again.
local function retryable(s)
  return s ~= nil and can(s, 'waiting')
end

-- The job, the ancestors it needs that did not complete, and the skipped descendants of all
-- of them, in the order they were found.
local function jobs_to_reset(id)
  local chosen, order = {}, {}
  local function choose(x) if not chosen[x] then chosen[x] = true; table.insert(order, x) end end
  local stack = {id}
  choose(id)
  while #stack > 0 do  -- ancestors that did not complete
    local x = table.remove(stack)
    local raw = redis.call('HGET', k_job(x), 'depends_on')
    if raw and raw ~= '' then
      for _, d in ipairs(cjson.decode(raw)) do
        if retryable(redis.call('HGET', k_job(d), 'status')) and not chosen[d] then
          choose(d); table.insert(stack, d)
        end
      end
    end
  end
  for i = 1, #order do table.insert(stack, order[i]) end
  while #stack > 0 do  -- skipped descendants
    local x = table.remove(stack)
    for _, d in ipairs(redis.call('SMEMBERS', k_dependents(x))) do
      if not chosen[d] and redis.call('HGET', k_job(d), 'status') == 'skipped' then
        choose(d); table.insert(stack, d)
      end
    end
  end
  return order
end

register('retry', function(args)
  local id = args[1]
  local j = load(id)
  if not j then return refuse('NOTFOUND', id) end
  if not retryable(j.status) then return refuse('ILLEGAL', 'retry ' .. id .. ' ' .. j.status) end
  local order = jobs_to_reset(id)
  local now = now_s()
  for _, x in ipairs(order) do
    local xj = load(x)
    zlater(k_index_finished(), x, false)
    redis.call('HSET', k_job(x), 'error_message', '', 'error_details', '', 'retry_count', 0,
      'progress', 0, 'output', '', 'started_at', '', 'completed_at', '', 'actual_duration', '',
      'worker_id', '')
    if xj.status == 'cancelled' and xj.worker_id and xj.worker_id ~= '' then
      -- Cancelled while it ran: that attempt may not have stopped yet (see held_elsewhere).
      redis.call('HSET', k_job(x), 'held_by', xj.worker_id)
    end
    xj.started_at = ''
    set_status(xj, 'waiting', now)
  end
  -- Only once every reset job waits: a job queues when what it depends on has completed.
  for _, x in ipairs(order) do
    local xj = load(x)
    local pending = pending_of(x)
    if pending == 0 then
      enqueue(xj, now, 'retried')
    else
      redis.call('HSET', k_job(x), 'pending', pending)
      emit(xj, 'retried', now, 0)
    end
  end
  return order
end)
