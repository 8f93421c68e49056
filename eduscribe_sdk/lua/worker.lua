-- Worker registry. 'beat' records a heartbeat and the worker's details; 'leave' puts its
-- unfinished jobs back in line and removes it.
-- ARGV: op, worker_id, then for beat: host, pid, threads, started_at
local op, w = ARGV[1], ARGV[2]
local now = now_s()
if op == 'beat' then
  redis.call('ZADD', k_workers(), math.floor(now * 1000), w)
  redis.call('HSET', k_worker(w), 'host', ARGV[3], 'pid', ARGV[4], 'threads', ARGV[5],
    'started_at', ARGV[6], 'last_seen', string.format('%.6f', now))
  return 'ok'
elseif op == 'leave' then
  local n = requeue_worker(w, now)
  redis.call('ZREM', k_workers(), w)
  redis.call('DEL', k_worker(w))
  wake()
  return n
end
return redis.error_reply('unknown op ' .. op)
