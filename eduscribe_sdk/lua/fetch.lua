-- fetch: a consumer takes up to `limit` jobs, always the highest effective priority first.
-- Effective rank = tier rank minus one per `aging_ms` waited, so low work never starves.
-- Also: heartbeat, due retries back in line, and (one caller at a time) the maintenance pass.
-- With `claim` = '1' the jobs taken are claimed for the worker at once (see claim() in
-- common.lua): a worker fetches only as many jobs as it has free slots, so they start now,
-- and this saves the separate start round trip per job.
-- args: worker_id, limit, aging_ms, heartbeat_timeout_ms, maintenance_interval_ms, claim
-- Returns one array per job: {id, job_type, priority, enqueued_ms[, claim reply]}.
-- Operators' controls (control.lua) apply at once: nothing from a paused tier, and nothing
-- at all for a worker asked to drain or restart (it still beats and runs maintenance here).

-- The control hash's fields a fetch reads, the tiers' in rank order. (Written out: while
-- Redis loads a library, its top level cannot call Lua's library functions.)
local PAUSED_FIELDS = {'paused:' .. PRIORITIES[1], 'paused:' .. PRIORITIES[2],
                       'paused:' .. PRIORITIES[3], 'paused:' .. PRIORITIES[4]}

-- Retries whose back-off is over go back in line.
local function release_due(ms_text, now)
  for _, id in ipairs(redis.call('ZRANGEBYSCORE', k_delayed(), '-inf', ms_text, 'LIMIT', '0', '500')) do
    redis.call('ZREM', k_delayed(), id)
    local j = load(id)
    if j and j.status == 'retrying' then enqueue(j, now, 'queued') end
  end
end

-- Repair sweep: a waiting job whose dependencies all completed (or one failed) is moved on.
-- The release in settle makes this a safety net, so it looks at a few jobs per pass.
local function sweep_waiting(now)
  local cursor = tonumber(redis.call('GET', k_sweep_cursor()) or '0')
  local ids = redis.call('ZRANGE', k_index_status('waiting'), cursor, cursor + 49)
  redis.call('SET', k_sweep_cursor(), (#ids < 50) and 0 or (cursor + 50))
  for _, id in ipairs(ids) do
    local j = load(id)
    local pending, broken = pending_of(id)
    if broken then
      finish(j, 'skipped', now, {'error_message', broken_reason(broken)})
      emit(j, 'skipped', now)
      skip_descendants(id, 'dependency ' .. id .. ' was skipped', now)
    elseif pending == 0 then
      enqueue(j, now, 'released')
    else
      redis.call('HSET', k_job(id), 'pending', pending)
    end
  end
end

-- Maintenance: dead workers' jobs back in line, then the repair sweep.
local function maintain(worker, ms, timeout, now)
  for _, w in ipairs(redis.call('ZRANGEBYSCORE', k_workers(), '-inf', ms - timeout, 'LIMIT', 0, 20)) do
    if w ~= worker then
      requeue_worker(w, now)
      redis.call('ZREM', k_workers(), w)
      redis.call('DEL', k_worker(w))
      redis.call('HDEL', k_control(), 'worker:' .. w)
    end
  end
  sweep_waiting(now)
end

-- The job the fetch hands out next: the best effective rank among the tiers' heads, oldest
-- first on ties. `heads[rank]` holds the first entries of each tier (id, score, ...) and
-- `next_of[rank]` the index of its first unused entry.
local function best_head(heads, next_of, ms, aging)
  local best_rank, best_eff, best_score = nil, nil, nil
  for rank = 0, 3 do
    local i = next_of[rank]
    local id = heads[rank][i]
    if id then
      local score = tonumber(heads[rank][i + 1])
      local eff = rank - math.floor((ms - score) / aging)
      if eff < 0 then eff = 0 end
      if best_rank == nil or eff < best_eff or (eff == best_eff and score < best_score) then
        best_rank, best_eff, best_score = rank, eff, score
      end
    end
  end
  return best_rank
end

register('fetch', function(args)
  local worker, limit, aging = args[1], tonumber(args[2]), tonumber(args[3])
  local timeout = tonumber(args[4])  -- args[5] goes to SET PX as it came
  local claiming = args[6] == '1'
  local now = now_s()
  local ms = math.floor(now * 1000)
  -- Numbers go to redis.call as text: Redis formats a Lua number with printf (see common.lua).
  local ms_text = int(ms)
  redis.call('ZADD', k_workers(), ms_text, worker)
  release_due(ms_text, now)
  if redis.call('SET', k_reaper(), worker, 'NX', 'PX', args[5]) then
    maintain(worker, ms, timeout, now)
  end

  -- Every control that applies, in one read: the four tiers' pauses, then this worker's.
  local control = redis.call('HMGET', k_control(), PAUSED_FIELDS[1], PAUSED_FIELDS[2],
    PAUSED_FIELDS[3], PAUSED_FIELDS[4], 'worker:' .. worker)
  if control[5] then return {} end  -- asked to drain or restart: it takes nothing new

  -- Each tier's first `limit` entries, read once: taking from one tier leaves the others'
  -- heads where they were, so a fetch of 8 jobs costs 4 range reads, not 32. A paused tier
  -- looks empty (its jobs stay queued, in their place).
  local heads, next_of = {}, {}
  local last = int(limit - 1)
  for rank = 0, 3 do
    heads[rank] = control[rank + 1] and {}
      or redis.call('ZRANGE', queue_key(PRIORITIES[rank + 1]), '0', last, 'WITHSCORES')
    next_of[rank] = 1
  end
  local taken = {}
  -- Entries left at the head of each tier because they are held elsewhere (held_elsewhere).
  local held = {[0] = 0, 0, 0, 0}
  while #taken < limit do
    for rank = 0, 3 do
      if heads[rank][next_of[rank]] == nil and #heads[rank] == 2 * limit then
        -- Stale entries used up what was read: the tier may hold more, after the held ones.
        heads[rank] = redis.call('ZRANGE', queue_key(PRIORITIES[rank + 1]), int(held[rank]),
          int(held[rank] + limit - 1), 'WITHSCORES')
        next_of[rank] = 1
      end
    end
    local rank = best_head(heads, next_of, ms, aging)
    if rank == nil then break end
    local id, score = heads[rank][next_of[rank]], heads[rank][next_of[rank] + 1]
    local priority = PRIORITIES[rank + 1]
    next_of[rank] = next_of[rank] + 2
    local j = load(id, claiming and CLAIM_FIELDS or FIELDS)
    if j and j.status == 'queued' and held_elsewhere(j, ms, timeout) then
      -- Left first in line: its cancelled attempt is still being stopped (held_elsewhere).
      held[rank] = held[rank] + 1
    elseif j and j.status == 'queued' then
      local item = {id, j.job_type, priority, score}
      if claiming then
        if j.priority ~= priority then redis.call('ZREM', queue_key(priority), id) end
        table.insert(item, claim(j, worker, now))  -- claim() takes it off its tier's queue
      else
        redis.call('ZREM', queue_key(priority), id)
        zlater(k_inflight(worker), id, ms)
      end
      table.insert(taken, item)
    else
      redis.call('ZREM', queue_key(priority), id)  -- a stale entry
    end
  end
  return taken
end)
