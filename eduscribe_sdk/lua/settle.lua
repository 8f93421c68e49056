-- Ends one attempt of a running job: complete, fail, retry later, requeue now, or just ack
-- ('unfetch' returns a job that was fetched but never started).
-- Only the attempt that is current may settle it: a stale or duplicate run never
-- overwrites a result. The fetched entry is acknowledged in every case.
-- ARGV: op, id, worker_id, attempt, then per op:
--   complete: output_json | fail: message, details_json | retry: delay_ms, message, details_json
local op, id, worker, attempt = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
redis.call('ZREM', k_inflight(worker), id)
if op == 'ack' then return 'ok' end
local j = load(id)
if op == 'unfetch' then  -- fetched (maybe claimed) but never run (worker stopping): back in line
  if j then put_back(j, worker, now_s()) end
  wake()
  return 'ok'
end
if not j or j.status ~= 'processing' or j.attempt ~= attempt or j.worker_id ~= worker then
  return 'stale'
end
local now = now_s()
local key = k_job(id)
if op == 'complete' then
  finish(j, 'completed', now, {'output', ARGV[5], 'progress', 100, 'error_message', '', 'error_details', ''})
  sample('duration', j.priority .. '|' .. j.job_type, now - tonumber(j.started_at))
  emit(j, 'completed', now, 100)
  release_dependents(id, now)
elseif op == 'fail' then
  finish(j, 'failed', now, {'error_message', ARGV[5], 'error_details', ARGV[6]})
  redis.call('HINCRBY', k_sums(), 'failed_n|' .. j.priority .. '|' .. j.job_type, 1)
  emit(j, 'failed', now)
  skip_descendants(id, 'dependency ' .. id .. ' failed', now)
elseif op == 'retry' then
  set_status(j, 'retrying', now, {'error_message', ARGV[6], 'error_details', ARGV[7], 'worker_id', ''})
  redis.call('HINCRBY', key, 'retry_count', 1)
  redis.call('ZADD', k_delayed(), math.floor(now * 1000) + tonumber(ARGV[5]), id)
  emit(j, 'retrying', now)
elseif op == 'requeue' then
  put_back(j, worker, now)
else
  return redis.error_reply('unknown op ' .. op)
end
wake()
return 'ok'
