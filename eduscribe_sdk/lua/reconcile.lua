-- reconcile: after Redis came back from a restart or a failover, which may have lost its last
-- moments of writes (AOF everysec, asynchronous replication), a worker says what it did in
-- them: the attempts it is running ('run') and the outcomes it recorded ('done'). A claim that
-- was lost (the job is queued again, at the attempt before ours) is taken back for this
-- worker, so that nobody else runs the job again; an outcome that was lost (the job is
-- processing on this worker at our attempt, perhaps just taken back) is named in the reply,
-- for the worker to record again.
-- args: worker_id, then per job: kind ('run' or 'done'), id, attempt
-- Returns the ids whose outcome the worker must record again.
register('reconcile', function(args)
  local worker = args[1]
  local now = now_s()
  local replay = {}
  for i = 2, #args, 3 do
    local kind, id, attempt = args[i], args[i + 1], tonumber(args[i + 2])
    local j = load(id, CLAIM_FIELDS)
    if j and j.status == 'queued' and (tonumber(j.attempt) or 0) == attempt - 1 then
      claim(j, worker, now)
      j.worker_id = worker
    end
    if kind == 'done' and j and j.status == 'processing' and j.worker_id == worker
        and tonumber(j.attempt) == attempt then
      replay[#replay + 1] = id
    end
  end
  return replay
end)
