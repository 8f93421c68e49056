-- worker: the worker registry. 'beat' records a heartbeat and the worker's details, and
-- reconciles its claims: a job Redis says this worker holds, fetched more than `grace_ms`
-- ago, that the worker does not hold (say Redis lost the last second of writes, and with it
-- a completion) goes back in line. 'leave' puts its unfinished jobs back in line and removes it.
-- args: op, worker_id, then for beat: host, pid, threads, started_at, grace_ms, held ids...
-- beat returns {jobs put back, what operators ask of it ('' | 'drain' | 'restart', see
-- control.lua), how many jobs Redis says it holds}: a worker asked to restart exits once
-- both it and Redis agree that it holds nothing.

local function beat(w, args, now)
  redis.call('ZADD', k_workers(), math.floor(now * 1000), w)
  redis.call('HSET', k_worker(w), 'host', args[3], 'pid', args[4], 'threads', args[5],
    'started_at', args[6], 'last_seen', stamp(now))
  local held = {}
  for i = 8, #args do held[args[i]] = true end
  local cutoff = math.floor(now * 1000) - tonumber(args[7])
  local n = 0
  for _, id in ipairs(redis.call('ZRANGEBYSCORE', k_inflight(w), '-inf', cutoff)) do
    if not held[id] then
      redis.call('ZREM', k_inflight(w), id)
      local j = load(id)
      if j and put_back(j, w, now) then n = n + 1 end
    end
  end
  local asked = redis.call('HGET', k_control(), 'worker:' .. w) or ''
  return {n, asked, redis.call('ZCARD', k_inflight(w))}
end

local function leave(w, now)
  local n = requeue_worker(w, now)
  redis.call('ZREM', k_workers(), w)
  redis.call('DEL', k_worker(w))
  redis.call('HDEL', k_control(), 'worker:' .. w)
  return n
end

register('worker', function(args)
  local op, w = args[1], args[2]
  if op == 'beat' then return beat(w, args, now_s()) end
  if op == 'leave' then return leave(w, now_s()) end
  return refuse('UNKNOWNOP', op)
end)
