-- stats: everything stats() needs in one round trip, in time independent of the number of jobs.
-- args: heartbeat_timeout_ms, recent_n
register('stats', function(args)
  local timeout, recent_n = tonumber(args[1]), tonumber(args[2])
  local ms = math.floor(now_s() * 1000)
  local status_counts = {}
  for _, s in ipairs(STATUSES) do
    table.insert(status_counts, s)
    table.insert(status_counts, redis.call('ZCARD', k_index_status(s)))
  end
  local depths = {}
  for _, p in ipairs(PRIORITIES) do
    table.insert(depths, p)
    table.insert(depths, redis.call('ZCARD', queue_key(p)))
  end
  local workers = {}
  for _, w in ipairs(redis.call('ZRANGEBYSCORE', k_workers(), ms - timeout, '+inf')) do
    table.insert(workers, w)
    table.insert(workers, redis.call('HGET', k_worker(w), 'threads') or '1')
  end
  -- ZREVRANGE 0 -1 is the whole index: a caller wanting no recent jobs (a wait estimate,
  -- on every GET of a queued job) must not get every job id.
  local recent = {}
  if recent_n > 0 then recent = redis.call('ZREVRANGE', k_index_all(), 0, recent_n - 1) end
  return {
    redis.call('ZCARD', k_index_all()),
    status_counts,
    depths,
    redis.call('ZCARD', k_delayed()),
    redis.call('HGETALL', k_sums()),
    redis.call('HGETALL', k_counts()),
    workers,
    recent,
    tostring(ms),
  }
end, {'no-writes'})
