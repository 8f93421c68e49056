-- Ends attempts of running jobs, several per call (a worker's threads finishing together
-- share one round trip): complete, fail, retry later, requeue now, or just ack ('unfetch'
-- returns a job that was fetched but never started).
-- Only the attempt that is current may settle a job: a stale or duplicate run never
-- overwrites a result. The fetched entry is acknowledged in every case.
-- ARGV: worker_id, then per job six values: op, id, attempt, a, b, c where a, b, c are
--   complete: output_json | fail: message, details_json | retry: delay_ms, message, details_json
-- Returns one verdict per job: 'ok' or 'stale'.
local worker = ARGV[1]
local now = nil

local function settle(op, id, attempt, a, b, c)
  zlater(k_inflight(worker), id, false)
  if op == 'ack' then return 'ok' end
  local j = load(id)
  now = now or now_s()
  if op == 'unfetch' then  -- fetched (maybe claimed) but never run (worker stopping): back in line
    if j then put_back(j, worker, now) end
    return 'ok'
  end
  if not j or j.status ~= 'processing' or j.attempt ~= attempt or j.worker_id ~= worker then
    return 'stale'
  end
  if op == 'complete' then
    finish(j, 'completed', now, {'output', a, 'progress', '100', 'error_message', '', 'error_details', ''})
    sample('duration', j.priority .. '|' .. j.job_type, now - tonumber(j.started_at))
    emit(j, 'completed', now, '100')
    release_dependents(id, now)
  elseif op == 'fail' then
    finish(j, 'failed', now, {'error_message', a, 'error_details', b})
    add(SUMS_N, 'failed_n|' .. j.priority .. '|' .. j.job_type, 1)
    emit(j, 'failed', now)
    skip_descendants(id, 'dependency ' .. id .. ' failed', now)
  elseif op == 'retry' then
    set_status(j, 'retrying', now, {'error_message', b, 'error_details', c, 'worker_id', '',
      'retry_count', string.format('%d', tonumber(j.retry_count) + 1)})
    redis.call('ZADD', k_delayed(), math.floor(now * 1000) + tonumber(a), id)
    emit(j, 'retrying', now)
  elseif op == 'requeue' then
    put_back(j, worker, now)
  else
    return redis.error_reply('unknown op ' .. op)
  end
  return 'ok'
end

local verdicts = {}
for i = 2, #ARGV, 6 do
  local verdict = settle(ARGV[i], ARGV[i + 1], ARGV[i + 2], ARGV[i + 3], ARGV[i + 4], ARGV[i + 5])
  if type(verdict) == 'table' then return verdict end  -- an error reply
  verdicts[#verdicts + 1] = verdict
end
return verdicts
