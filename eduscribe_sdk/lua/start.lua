-- A worker thread claims a job it fetched. Refused ('skip') for a job that was cancelled,
-- finished, or is running on another live worker: a redelivered or duplicate message
-- never runs the job twice.
-- ARGV: id, worker_id, heartbeat_timeout_ms
local id, worker, timeout = ARGV[1], ARGV[2], tonumber(ARGV[3])
local now = now_s()
local ms = math.floor(now * 1000)
local j = load(id)
if not j then return {'skip', 'missing'} end
if j.status == 'processing' then
  local seen = j.worker_id ~= '' and redis.call('ZSCORE', k_workers(), j.worker_id)
  if j.worker_id == worker or (seen and tonumber(seen) >= ms - timeout) then
    -- Our fetched entry is the same member as the running one when the worker is ourselves.
    if j.worker_id ~= worker then redis.call('ZREM', k_inflight(worker), id) end
    return {'skip', 'running'}
  end
elseif j.status ~= 'queued' then
  redis.call('ZREM', k_inflight(worker), id)
  return {'skip', j.status}
end
redis.call('ZREM', queue_key(j.priority), id)
local attempt = redis.call('HINCRBY', k_job(id), 'attempt', 1)
if j.queued_at and j.queued_at ~= '' then
  sample('wait', j.priority .. '|' .. j.job_type, now - tonumber(j.queued_at))
end
set_status(j, 'processing', now)
redis.call('HSET', k_job(id), 'started_at', string.format('%.6f', now), 'worker_id', worker,
  'progress', 0)
redis.call('ZADD', k_inflight(worker), ms, id)
emit(j, 'started', now, 0)

local v = redis.call('HMGET', k_job(id), 'job_type', 'input', 'title', 'depends_on')
local result = {'ok', attempt, v[1], v[2], v[3] or '', v[4] or '[]', j.retry_count, j.max_retries}
local raw = v[4]
if raw and raw ~= '' then
  for _, d in ipairs(cjson.decode(raw)) do
    local dv = redis.call('HMGET', k_job(d), 'output', 'title')
    table.insert(result, d)
    table.insert(result, dv[1] or '')
    table.insert(result, dv[2] or '')
  end
end
return result
