-- progress: records progress of a running attempt; tells the worker when the job was
-- cancelled ('cancelled') or when the attempt no longer owns the job ('stale'). With a
-- worker id, an attempt of the same number that another worker claimed is not ours either:
-- Redis lost our claim with its last writes and the other worker fetched the job again.
-- args: id, attempt, progress (0-100), worker_id (optional)
register('progress', function(args)
  local id, attempt, progress, worker = args[1], args[2], tonumber(args[3]), args[4]
  local v = redis.call('HMGET', k_job(id), 'status', 'attempt', 'progress', 'worker_id')
  if v[2] ~= attempt then return 'stale' end
  if v[1] == 'cancelled' then return 'cancelled' end
  if v[1] ~= 'processing' then return 'stale' end
  if worker and worker ~= '' and v[4] ~= worker then return 'stale' end
  if tonumber(v[3]) ~= progress then
    local now = now_s()
    local j = load(id)
    redis.call('HSET', k_job(id), 'progress', progress, 'updated_at', stamp(now))
    emit(j, 'progress', now, progress)
  end
  return 'ok'
end)
