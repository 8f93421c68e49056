-- Worker registry. 'beat' records a heartbeat and the worker's details, and reconciles its
-- claims: a job Redis says this worker holds, fetched more than `grace_ms` ago, that the
-- worker does not hold (say Redis lost the last second of writes, and with it a completion)
-- goes back in line. 'leave' puts its unfinished jobs back in line and removes it.
-- ARGV: op, worker_id, then for beat: host, pid, threads, started_at, grace_ms, held ids...
local op, w = ARGV[1], ARGV[2]
local now = now_s()
if op == 'beat' then
  redis.call('ZADD', k_workers(), math.floor(now * 1000), w)
  redis.call('HSET', k_worker(w), 'host', ARGV[3], 'pid', ARGV[4], 'threads', ARGV[5],
    'started_at', ARGV[6], 'last_seen', stamp(now))
  local held = {}
  for i = 8, #ARGV do held[ARGV[i]] = true end
  local cutoff = math.floor(now * 1000) - tonumber(ARGV[7])
  local n = 0
  for _, id in ipairs(redis.call('ZRANGEBYSCORE', k_inflight(w), '-inf', cutoff)) do
    if not held[id] then
      redis.call('ZREM', k_inflight(w), id)
      local j = load(id)
      if j and put_back(j, w, now) then n = n + 1 end
    end
  end
  return n
elseif op == 'leave' then
  local n = requeue_worker(w, now)
  redis.call('ZREM', k_workers(), w)
  redis.call('DEL', k_worker(w))
  return n
end
return redis.error_reply('unknown op ' .. op)
