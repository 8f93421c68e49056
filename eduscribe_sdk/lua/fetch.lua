-- A consumer takes up to `limit` jobs: always the highest effective priority first.
-- Effective rank = tier rank minus one per `aging_ms` waited, so low work never starves.
-- Also: heartbeat, due retries back in line, and (one caller at a time) the maintenance pass.
-- With `claim` = '1' the jobs taken are claimed for the worker at once (see claim() in
-- common.lua): a worker fetches only as many jobs as it has free slots, so they start now,
-- and this saves the separate start round trip per job.
-- ARGV: worker_id, limit, aging_ms, heartbeat_timeout_ms, maintenance_interval_ms, claim
-- Returns one array per job: {id, job_type, priority, enqueued_ms[, claim reply]}.
local worker, limit, aging = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3])
local timeout, interval = tonumber(ARGV[4]), tonumber(ARGV[5])
local claiming = ARGV[6] == '1'
local now = now_s()
local ms = math.floor(now * 1000)
redis.call('ZADD', k_workers(), ms, worker)

for _, id in ipairs(redis.call('ZRANGEBYSCORE', k_delayed(), '-inf', ms, 'LIMIT', 0, 500)) do
  redis.call('ZREM', k_delayed(), id)
  local j = load(id)
  if j and j.status == 'retrying' then enqueue(j, now, 'queued') end
end

if redis.call('SET', k_reaper(), worker, 'NX', 'PX', interval) then
  for _, w in ipairs(redis.call('ZRANGEBYSCORE', k_workers(), '-inf', ms - timeout, 'LIMIT', 0, 20)) do
    if w ~= worker then
      requeue_worker(w, now)
      redis.call('ZREM', k_workers(), w)
      redis.call('DEL', k_worker(w))
    end
  end
  -- Repair sweep: a waiting job whose dependencies all completed (or one failed) is moved on.
  -- The release in complete() makes this a safety net, so it looks at a few jobs per pass.
  local cursor = tonumber(redis.call('GET', k_sweep_cursor()) or '0')
  local ids = redis.call('ZRANGE', k_index_status('waiting'), cursor, cursor + 49)
  redis.call('SET', k_sweep_cursor(), (#ids < 50) and 0 or (cursor + 50))
  for _, id in ipairs(ids) do
    local j = load(id)
    local pending, broken = pending_of(id)
    if broken then
      finish(j, 'skipped', now)
      redis.call('HSET', k_job(id), 'error_message', broken_reason(broken))
      emit(j, 'skipped', now)
      skip_descendants(id, 'dependency ' .. id .. ' was skipped', now)
    elseif pending == 0 then
      enqueue(j, now, 'released')
    else
      redis.call('HSET', k_job(id), 'pending', pending)
    end
  end
end

local taken = {}
for _ = 1, limit do
  local best_id, best_eff, best_score, best_priority = nil, nil, nil, nil
  for rank = 0, 3 do
    local priority = PRIORITIES[rank + 1]
    local head = redis.call('ZRANGE', queue_key(priority), 0, 0, 'WITHSCORES')
    if head[1] then
      local score = tonumber(head[2])
      local eff = rank - math.floor((ms - score) / aging)
      if eff < 0 then eff = 0 end
      if best_id == nil or eff < best_eff or (eff == best_eff and score < best_score) then
        best_id, best_eff, best_score, best_priority = head[1], eff, score, priority
      end
    end
  end
  if best_id == nil then break end
  redis.call('ZREM', queue_key(best_priority), best_id)
  local j = load(best_id)
  if j and j.status == 'queued' then
    local item = {best_id, j.job_type, best_priority, tostring(best_score)}
    if claiming then
      table.insert(item, claim(j, worker, now))
    else
      redis.call('ZADD', k_inflight(worker), ms, best_id)
    end
    table.insert(taken, item)
  end
end
wake()
return taken
