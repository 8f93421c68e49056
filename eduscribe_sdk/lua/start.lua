-- start: a worker thread claims a job it fetched. Refused ('skip') for a job that was
-- cancelled, finished, or is running on another live worker: a redelivered or duplicate
-- message never runs the job twice, and a retried job never runs next to its cancelled attempt.
-- args: id, worker_id, heartbeat_timeout_ms
register('start', function(args)
  local id, worker, timeout = args[1], args[2], tonumber(args[3])
  local now = now_s()
  local ms = math.floor(now * 1000)
  local j = load(id, CLAIM_FIELDS)
  if not j then return {'skip', 'missing'} end
  if j.status == 'processing' then
    local seen = j.worker_id ~= '' and redis.call('ZSCORE', k_workers(), j.worker_id)
    if j.worker_id == worker or (seen and tonumber(seen) >= ms - timeout) then
      -- Our fetched entry is the same member as the running one when the worker is ourselves.
      if j.worker_id ~= worker then zlater(k_inflight(worker), id, false) end
      return {'skip', 'running'}
    end
  elseif j.status ~= 'queued' then
    zlater(k_inflight(worker), id, false)
    return {'skip', j.status}
  elseif held_elsewhere(j, ms, timeout) then
    -- Its cancelled attempt still runs: back at its place in line until that has ended.
    put_back(j, worker, now)
    zlater(k_inflight(worker), id, false)
    return {'skip', 'running'}
  end
  return claim(j, worker, now)
end)
