-- Shared helpers, prepended to every script after the generated key functions (keys.py).
-- Times come from the Redis server's clock so that every machine agrees on them.
local PRIORITIES = {'urgent', 'high', 'normal', 'low'}
local RANK = {urgent = 0, high = 1, normal = 2, low = 3}
local FINISHED = {completed = true, failed = true, cancelled = true, skipped = true}
local WAKE = false
local SEQ = 0

local function now_s()
  local t = redis.call('TIME')
  return tonumber(t[1]) + tonumber(t[2]) / 1000000
end

local function queue_key(priority)
  return k_queue('eduscribe.' .. priority)
end

local FIELDS = {'status', 'priority', 'job_type', 'created_at', 'worker_id', 'attempt',
                'queued_at', 'started_at', 'user_id', 'batch_id', 'retry_count', 'max_retries'}

local function load(id)
  local v = redis.call('HMGET', k_job(id), unpack(FIELDS))
  if not v[1] then return nil end
  local j = {id = id}
  for i, name in ipairs(FIELDS) do j[name] = v[i] end
  return j
end

local function emit(j, kind, now, progress)
  redis.call('XADD', k_events(), 'MAXLEN', '~', EVENTS_MAXLEN, '*',
    'job', j.id, 'kind', kind, 'status', j.status, 'progress', progress or '',
    'at', string.format('%.6f', now), 'batch', j.batch_id or '')
end

local function count(j, status, delta)
  redis.call('HINCRBY', k_counts(), j.priority .. '|' .. j.job_type .. '|' .. status, delta)
end

-- Moves a job between status indexes and counters; the caller emits the event. `extra`
-- (field, value, ...) is written with the status in the same HSET: every redis.call costs
-- about as much again as the command itself, and a job makes dozens of them.
local function set_status(j, new, now, extra)
  local old = j.status
  if old ~= new then
    redis.call('ZREM', k_index_status(old), j.id)
    redis.call('ZADD', k_index_status(new), j.created_at, j.id)
    count(j, old, -1)
    count(j, new, 1)
    j.status = new
  end
  local fields = {'status', new, 'updated_at', string.format('%.6f', now)}
  for _, v in ipairs(extra or {}) do fields[#fields + 1] = v end
  redis.call('HSET', k_job(j.id), unpack(fields))
end

local function sample(kind, group, value)
  local key = k_samples(kind .. ':' .. group)
  -- Trimmed once the list is a tenth over the cap, not on every push.
  if redis.call('LPUSH', key, string.format('%.6f', value)) > SAMPLE_CAP + SAMPLE_CAP / 10 then
    redis.call('LTRIM', key, 0, SAMPLE_CAP - 1)
  end
  redis.call('HINCRBYFLOAT', k_sums(), kind .. '_sum|' .. group, value)
  redis.call('HINCRBY', k_sums(), kind .. '_n|' .. group, 1)
end

local function enqueue(j, now, kind)
  set_status(j, 'queued', now)
  -- Jobs queued by one script share a clock reading; a microsecond step per job keeps
  -- first-in first-out order within a tier (ties would otherwise sort by id).
  local score = now * 1000 + SEQ * 0.001
  SEQ = SEQ + 1
  redis.call('HSET', k_job(j.id), 'queued_at', string.format('%.6f', score / 1000), 'worker_id', '')
  j.queued_at = score / 1000
  redis.call('ZADD', queue_key(j.priority), string.format('%.3f', score), j.id)
  emit(j, kind or 'queued', now, 0)
  WAKE = true
end

local function finish(j, status, now, extra)
  local fields = {'completed_at', string.format('%.6f', now)}
  if j.started_at and j.started_at ~= '' and (status == 'completed' or status == 'failed') then
    table.insert(fields, 'actual_duration')
    table.insert(fields, string.format('%.6f', now - tonumber(j.started_at)))
  end
  for _, v in ipairs(extra or {}) do fields[#fields + 1] = v end
  set_status(j, status, now, fields)
  redis.call('ZADD', k_index_finished(), now, j.id)
end

-- A failed or cancelled job takes every job still waiting on it (transitively) with it.
local function skip_descendants(root_id, reason, now)
  local stack = {root_id}
  local skipped = 0
  while #stack > 0 do
    local id = table.remove(stack)
    for _, d in ipairs(redis.call('SMEMBERS', k_dependents(id))) do
      local dj = load(d)
      if dj and dj.status == 'waiting' then
        finish(dj, 'skipped', now, {'error_message', reason})
        emit(dj, 'skipped', now)
        skipped = skipped + 1
        table.insert(stack, d)
      end
    end
  end
  return skipped
end

-- The last dependency to complete enqueues its dependent in the same atomic step.
local function release_dependents(id, now)
  for _, d in ipairs(redis.call('SMEMBERS', k_dependents(id))) do
    local dj = load(d)
    if dj and dj.status == 'waiting' then
      local pending = redis.call('HINCRBY', k_job(d), 'pending', -1)
      if pending <= 0 then enqueue(dj, now, 'released') end
    end
  end
end

-- Why a job cannot run: worded like the skips that cascade from settle.lua and cancel.lua.
local function broken_reason(dep_id)
  local s = redis.call('HGET', k_job(dep_id), 'status')
  local how = ({failed = 'failed', cancelled = 'was cancelled', skipped = 'was skipped'})[s]
  return 'dependency ' .. dep_id .. ' ' .. (how or 'did not complete')
end

-- Dependencies not completed yet, and the first that can never complete (or nil).
local function pending_of(id)
  local raw = redis.call('HGET', k_job(id), 'depends_on')
  local pending, broken = 0, nil
  if raw and raw ~= '' then
    for _, d in ipairs(cjson.decode(raw)) do
      local s = redis.call('HGET', k_job(d), 'status')
      -- A dependency removed by cleanup had completed: cleanup keeps jobs with live dependents.
      if s and s ~= 'completed' then
        if FINISHED[s] then broken = broken or d else pending = pending + 1 end
      end
    end
  end
  return pending, broken
end

-- Puts a job that worker `w` held (fetched, or claimed and running) back at its old place in
-- line; false when the job has moved on (finished, cancelled, taken over by another worker).
local function put_back(j, w, now)
  if j.status == 'processing' and j.worker_id == w then
    set_status(j, 'queued', now)
    redis.call('HSET', k_job(j.id), 'worker_id', '', 'progress', 0)
    emit(j, 'requeued', now, 0)
  elseif j.status ~= 'queued' then
    return false
  end
  redis.call('ZADD', queue_key(j.priority), string.format('%.3f', tonumber(j.queued_at) * 1000), j.id)
  WAKE = true
  return true
end

-- Puts a dead worker's unfinished jobs back in line at their old place.
local function requeue_worker(w, now)
  local n = 0
  for _, id in ipairs(redis.call('ZRANGE', k_inflight(w), 0, -1)) do
    local j = load(id)
    if j and put_back(j, w, now) then n = n + 1 end
  end
  redis.call('DEL', k_inflight(w))
  return n
end

-- Claims a queued job for a worker: processing, next attempt, wait sample, 'started' event.
-- Returns what the worker needs: {'ok', attempt, job_type, input, title, depends_on,
-- retry_count, max_retries, then id, output, title per dependency}.
local function claim(j, worker, now)
  local id = j.id
  local ms = math.floor(now * 1000)
  redis.call('ZREM', queue_key(j.priority), id)
  local attempt = redis.call('HINCRBY', k_job(id), 'attempt', 1)
  if j.queued_at and j.queued_at ~= '' then
    sample('wait', j.priority .. '|' .. j.job_type, now - tonumber(j.queued_at))
  end
  set_status(j, 'processing', now, {'started_at', string.format('%.6f', now), 'worker_id', worker,
    'progress', 0})
  redis.call('ZADD', k_inflight(worker), ms, id)
  emit(j, 'started', now, 0)

  local v = redis.call('HMGET', k_job(id), 'job_type', 'input', 'title', 'depends_on')
  local result = {'ok', attempt, v[1], v[2], v[3] or '', v[4] or '[]', j.retry_count, j.max_retries}
  local raw = v[4]
  if raw and raw ~= '' then
    for _, d in ipairs(cjson.decode(raw)) do
      local dv = redis.call('HMGET', k_job(d), 'output', 'title')
      table.insert(result, d)
      table.insert(result, dv[1] or '')
      table.insert(result, dv[2] or '')
    end
  end
  return result
end

local function wake()
  if WAKE then redis.call('PUBLISH', k_wakeup(), '1') end
end
