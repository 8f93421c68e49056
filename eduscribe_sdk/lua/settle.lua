-- settle: ends attempts of running jobs, several per call (a worker's threads finishing
-- together share one round trip): complete, fail, retry later, requeue now, or just ack
-- ('unfetch' returns a job that was fetched but never started).
-- Only the attempt that is current may settle a job: a stale or duplicate run never
-- overwrites a result. The fetched entry is acknowledged in every case.
-- args: worker_id, then per job six values: op, id, attempt, a, b, c where a, b, c are
--   complete: output_json | fail: message, details_json | retry: delay_ms, message, details_json
-- Returns one verdict per job: 'ok' or 'stale'.

local function complete(j, output)
  local now = now_s()
  finish(j, 'completed', now, {'output', output, 'progress', '100', 'error_message', '', 'error_details', ''})
  sample('duration', j.priority .. '|' .. j.job_type, now - tonumber(j.started_at))
  emit(j, 'completed', now, '100')
  release_dependents(j.id, now)
end

local function fail(j, message, details)
  local now = now_s()
  finish(j, 'failed', now, {'error_message', message, 'error_details', details})
  add(SUMS_N, 'failed_n|' .. j.priority .. '|' .. j.job_type, 1)
  emit(j, 'failed', now)
  skip_descendants(j.id, 'dependency ' .. j.id .. ' failed', now)
end

local function retry_later(j, delay_ms, message, details)
  local now = now_s()
  set_status(j, 'retrying', now, {'error_message', message, 'error_details', details, 'worker_id', '',
    'retry_count', int(tonumber(j.retry_count) + 1)})
  redis.call('ZADD', k_delayed(), math.floor(now * 1000) + tonumber(delay_ms), j.id)
  emit(j, 'retrying', now)
end

local function settle_one(worker, op, id, attempt, a, b, c)
  zlater(k_inflight(worker), id, false)
  if op == 'ack' then return 'ok' end
  local j = load(id)
  if op == 'unfetch' then  -- fetched (maybe claimed) but never run (worker stopping): back in line
    if j then put_back(j, worker, now_s()) end
    return 'ok'
  end
  if not j or j.status ~= 'processing' or j.attempt ~= attempt or j.worker_id ~= worker then
    return 'stale'
  end
  if op == 'complete' then
    complete(j, a)
  elseif op == 'fail' then
    fail(j, a, b)
  elseif op == 'retry' then
    retry_later(j, a, b, c)
  elseif op == 'requeue' then
    put_back(j, worker, now_s())
  else
    return refuse('UNKNOWNOP', op)
  end
  return 'ok'
end

register('settle', function(args)
  local worker = args[1]
  local verdicts = {}
  for i = 2, #args, 6 do
    local verdict = settle_one(worker, args[i], args[i + 1], args[i + 2], args[i + 3], args[i + 4], args[i + 5])
    if type(verdict) == 'table' then return verdict end  -- an error reply
    verdicts[#verdicts + 1] = verdict
  end
  return verdicts
end)
