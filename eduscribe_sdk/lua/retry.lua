-- Puts a failed, cancelled or skipped job back in line, together with the unfinished
-- ancestors it needs and the skipped dependents that were waiting on it.
-- ARGV: id
local id = ARGV[1]
local j = load(id)
if not j then return redis.error_reply('NOTFOUND ' .. id) end
local RETRYABLE = {failed = true, cancelled = true, skipped = true}
if not RETRYABLE[j.status] then return redis.error_reply('ILLEGAL ' .. j.status) end

local chosen, order = {}, {}
local function choose(x) if not chosen[x] then chosen[x] = true; table.insert(order, x) end end
local stack = {id}
choose(id)
while #stack > 0 do  -- ancestors that did not complete
  local x = table.remove(stack)
  local raw = redis.call('HGET', k_job(x), 'depends_on')
  if raw and raw ~= '' then
    for _, d in ipairs(cjson.decode(raw)) do
      local s = redis.call('HGET', k_job(d), 'status')
      if s and RETRYABLE[s] and not chosen[d] then choose(d); table.insert(stack, d) end
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

local now = now_s()
for _, x in ipairs(order) do
  local xj = load(x)
  zlater(k_index_finished(), x, false)
  redis.call('HSET', k_job(x), 'error_message', '', 'error_details', '', 'retry_count', 0,
    'progress', 0, 'output', '', 'started_at', '', 'completed_at', '', 'actual_duration', '',
    'worker_id', '')
  xj.started_at = ''
  set_status(xj, 'waiting', now)
end
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
