-- Shared helpers of the EduScribe function library. Redis loads the library once
-- (FUNCTION LOAD, see eduscribe_sdk/_library.py): the generated block above this file (key
-- functions, statuses, transitions, priorities, tiers), this file, then one file per
-- function, each ending with register(). Every definition here serves every call; state that
-- belongs to one call is reset by begin() and written out by flush().
-- Times come from the Redis server's clock so that every machine agrees on them.

-- Per-call state (see begin()).
local WAKE, SEQ  -- whether work was queued (flush() wakes idle consumers); FIFO step per job
local ZLATER, ZKEYS  -- deferred sorted-set writes: key -> {member -> score, or false to remove}
local COUNTS, SUMS, SUMS_N  -- deferred hash increments: field -> delta
local LPUSHES, LKEYS  -- deferred sample pushes: list key -> values, oldest first
local STAMPED, STAMP  -- the last clock reading formatted by stamp(), and its text
local NOW  -- the call's clock reading, taken when first needed

local function begin(prefix)
  P = prefix
  WAKE, SEQ = false, 0
  ZLATER, ZKEYS, COUNTS, SUMS, SUMS_N, LPUSHES, LKEYS = {}, {}, {}, {}, {}, {}, {}
  STAMPED, STAMP, NOW = nil, nil, nil
end

-- The server's time in seconds: one reading per call, so that everything a call writes
-- carries the same time (and a call that writes no time, like an ack, asks for none).
local function now_s()
  if not NOW then
    local t = redis.call('TIME')
    NOW = tonumber(t[1]) + tonumber(t[2]) / 1000000
  end
  return NOW
end

-- Numbers become text through glibc's printf: thousands of instructions for a float (Lua's
-- tostring, '%f', and every number handed to redis.call alike), a few hundred for '%d'. So
-- the hot paths pass text, and write times as fixed-point text built from integers.
local function micros(us)  -- integer microseconds -> seconds with six decimals
  return string.format('%d.%06d', math.floor(us / 1000000), us % 1000000)
end

local function seconds(t)  -- a non-negative time or duration in seconds, six decimals
  return micros(math.floor(t * 1000000 + 0.5))
end

local function int(n)  -- a whole number as text
  return string.format('%d', n)
end

-- A call stamps many fields and events with one clock reading: it is formatted once.
local function stamp(t)
  if t ~= STAMPED then STAMPED, STAMP = t, seconds(t) end
  return STAMP
end

-- A tier queue's score: the enqueue time in milliseconds, three decimals (microseconds).
local function queue_score(us)
  return string.format('%d.%03d', math.floor(us / 1000), us % 1000)
end

local function queue_key(priority)
  return k_queue(QUEUE_PREFIX .. priority)
end

-- The record fields most transitions need, in the order create() writes them: a small hash
-- is a list that each field lookup walks from the start.
local FIELDS = {'status', 'priority', 'job_type', 'created_at', 'worker_id', 'attempt',
                'queued_at', 'started_at', 'user_id', 'batch_id', 'retry_count', 'max_retries'}

-- With what a worker needs to run the job too, for a job about to be claimed, and `held_by`
-- (see held_elsewhere), last: it is only there after a retry. (Written out:
-- while Redis loads a library, its top level cannot call Lua's library functions.)
local CLAIM_FIELDS = {'input', 'title', 'depends_on', 'status', 'priority', 'job_type',
                      'created_at', 'worker_id', 'attempt', 'queued_at', 'started_at', 'user_id',
                      'batch_id', 'retry_count', 'max_retries', 'held_by'}

local function load(id, fields)
  fields = fields or FIELDS
  local v = redis.call('HMGET', k_job(id), unpack(fields))
  local j = {id = id}
  for i, name in ipairs(fields) do j[name] = v[i] end
  if not j.status then return nil end
  return j
end

local function emit(j, kind, now, progress)
  redis.call('XADD', k_events(), 'MAXLEN', '~', EVENTS_MAXLEN, '*',
    'job', j.id, 'kind', kind, 'status', j.status, 'progress', progress or '',
    'at', stamp(now), 'batch', j.batch_id or '')
end

-- Deferred writes. Status index moves, counters, samples and a job's in-flight entry are
-- gathered while a function runs and written by flush() after it returns, one variadic
-- command per key: every redis.call costs about as much again as the command itself, and a
-- batch of jobs would otherwise repeat the same few commands per job. A function never
-- reads back a key it deferred writes to.

-- The table kept under `key` in `map`; on first use it is created and `key` is appended to
-- `order`, so that writes happen in the order the keys were first touched.
local function table_for(map, order, key)
  local t = map[key]
  if not t then
    t = {}
    map[key] = t
    order[#order + 1] = key
  end
  return t
end

local function zlater(key, member, score)
  -- The last move of a member wins, as if each had been written at once.
  table_for(ZLATER, ZKEYS, key)[member] = score
end

local function add(t, k, delta)
  t[k] = (t[k] or 0) + delta
end

local function count(j, status, delta)
  add(COUNTS, j.priority .. '|' .. j.job_type .. '|' .. status, delta)
end

-- Whether TRANSITIONS (models.py) lets a job move from status `old` to `new`.
local function can(old, new)
  return TRANSITIONS[old][new] == true
end

-- The one place a job's status changes: status indexes, counters and the record. `extra`
-- (field, value, ...) is written with the status in the same HSET (every redis.call costs
-- about as much again as the command itself). The caller emits the event. A move that
-- TRANSITIONS does not allow is a bug in this library: it stops the call before it writes.
local function set_status(j, new, now, extra)
  local old = j.status
  if old ~= new then
    if not can(old, new) then error('illegal transition ' .. old .. ' -> ' .. new .. ' of job ' .. j.id) end
    zlater(k_index_status(old), j.id, false)
    zlater(k_index_status(new), j.id, j.created_at)
    count(j, old, -1)
    count(j, new, 1)
    j.status = new
  end
  local fields = {'status', new, 'updated_at', stamp(now)}
  for _, v in ipairs(extra or {}) do fields[#fields + 1] = v end
  redis.call('HSET', k_job(j.id), unpack(fields))
end

local function sample(kind, group, value)
  local values = table_for(LPUSHES, LKEYS, k_samples(kind .. ':' .. group))
  if value < 0 then value = 0 end  -- clock readings a microsecond apart in one call
  values[#values + 1] = seconds(value)
  add(SUMS, kind .. '_sum|' .. group, value)
  add(SUMS_N, kind .. '_n|' .. group, 1)
end

-- The enqueue time of the next job queued by this call, in integer microseconds. Jobs
-- queued by one call share a clock reading; a microsecond step per job keeps first-in
-- first-out order within a tier (ties would otherwise sort by id).
local function next_queued_us(now)
  local us = math.floor(now * 1000000) + SEQ
  SEQ = SEQ + 1
  return us
end

local function enqueue(j, now, kind)
  set_status(j, 'queued', now)
  local us = next_queued_us(now)
  j.queued_at = micros(us)
  redis.call('HSET', k_job(j.id), 'queued_at', j.queued_at, 'worker_id', '')
  redis.call('ZADD', queue_key(j.priority), queue_score(us), j.id)
  emit(j, kind or 'queued', now, '0')
  WAKE = true
end

local function finish(j, status, now, extra)
  local fields = {'completed_at', stamp(now)}
  if j.started_at and j.started_at ~= '' and (status == 'completed' or status == 'failed') then
    table.insert(fields, 'actual_duration')
    table.insert(fields, seconds(math.max(0, now - tonumber(j.started_at))))
  end
  for _, v in ipairs(extra or {}) do fields[#fields + 1] = v end
  set_status(j, status, now, fields)
  zlater(k_index_finished(), j.id, stamp(now))
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
      local pending = redis.call('HINCRBY', k_job(d), 'pending', '-1')
      if pending <= 0 then enqueue(dj, now, 'released') end
    end
  end
end

-- Why a job cannot run: worded like the skips that cascade from settle and cancel.
local function broken_reason(dep_id, status)
  status = status or redis.call('HGET', k_job(dep_id), 'status')
  local how = ({failed = 'failed', cancelled = 'was cancelled', skipped = 'was skipped'})[status]
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
    redis.call('HSET', k_job(j.id), 'worker_id', '', 'progress', '0')
    emit(j, 'requeued', now, '0')
  elseif j.status ~= 'queued' then
    return false
  end
  local us = math.floor(tonumber(j.queued_at) * 1000000 + 0.5)
  redis.call('ZADD', queue_key(j.priority), queue_score(us), j.id)
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

-- Whether a job's cancelled attempt may still be running: `held_by` (set by retry) names the
-- worker that ran it, and that worker is alive and has not acknowledged it yet. Such a job
-- stays in line, and is not claimed, until that attempt has ended or its worker is gone, so
-- a retry never runs next to the attempt it replaces.
local function held_elsewhere(j, ms, timeout)
  local w = j.held_by
  if not w or w == '' or not redis.call('ZSCORE', k_inflight(w), j.id) then return false end
  local seen = redis.call('ZSCORE', k_workers(), w)
  return seen ~= false and tonumber(seen) >= ms - timeout
end

-- Claims a queued job, loaded with CLAIM_FIELDS, for a worker: processing, next attempt,
-- wait sample, 'started' event. Returns what the worker needs: {'ok', attempt, job_type,
-- input, title, depends_on, retry_count, max_retries, then id, output, title per dependency}.
local function claim(j, worker, now)
  local id = j.id
  redis.call('ZREM', queue_key(j.priority), id)
  -- A damaged record (written behind the SDK's back) must not fail the whole fetch: the
  -- worker fails that one job as corrupt (see _records.py) and runs the rest.
  local attempt = (tonumber(j.attempt) or 0) + 1
  local queued_at = tonumber(j.queued_at)
  if queued_at then
    sample('wait', j.priority .. '|' .. j.job_type, now - queued_at)
  end
  set_status(j, 'processing', now, {'started_at', stamp(now), 'worker_id', worker,
    'progress', '0', 'attempt', int(attempt)})
  j.attempt = int(attempt)
  if j.held_by and j.held_by ~= '' then redis.call('HDEL', k_job(id), 'held_by') end
  zlater(k_inflight(worker), id, int(math.floor(now * 1000)))
  emit(j, 'started', now, '0')

  local raw = j.depends_on
  local result = {'ok', attempt, j.job_type, j.input or '', j.title or '', raw or '[]',
    j.retry_count or '', j.max_retries or ''}
  local decoded, deps = false, nil
  if raw and raw ~= '' and raw ~= '[]' then decoded, deps = pcall(cjson.decode, raw) end
  if decoded and type(deps) == 'table' then
    for _, d in ipairs(deps) do
      local dv = redis.call('HMGET', k_job(d), 'output', 'title')
      table.insert(result, d)
      table.insert(result, dv[1] or '')
      table.insert(result, dv[2] or '')
    end
  end
  return result
end

-- unpack has a stack limit (LUAI_MAXCSTACK, 8000): long argument lists go in slices.
local function variadic(command, key, args)
  local reply
  for s = 1, #args, 4000 do
    reply = redis.call(command, key, unpack(args, s, math.min(s + 3999, #args)))
  end
  return reply
end

-- Writes what the call deferred, then wakes idle consumers if it queued work.
local function flush()
  for _, key in ipairs(ZKEYS) do
    local adds, removals = {}, {}
    for member, score in pairs(ZLATER[key]) do
      if score then
        adds[#adds + 1] = score
        adds[#adds + 1] = member
      else
        removals[#removals + 1] = member
      end
    end
    if #adds > 0 then variadic('ZADD', key, adds) end
    if #removals > 0 then variadic('ZREM', key, removals) end
  end
  for field, delta in pairs(COUNTS) do
    if delta ~= 0 then redis.call('HINCRBY', k_counts(), field, int(delta)) end
  end
  for field, delta in pairs(SUMS) do redis.call('HINCRBYFLOAT', k_sums(), field, seconds(delta)) end
  for field, delta in pairs(SUMS_N) do redis.call('HINCRBY', k_sums(), field, int(delta)) end
  for _, key in ipairs(LKEYS) do
    -- Trimmed once the list is a tenth over the cap, not on every push.
    if variadic('LPUSH', key, LPUSHES[key]) > SAMPLE_CAP + SAMPLE_CAP / 10 then
      redis.call('LTRIM', key, 0, SAMPLE_CAP - 1)
    end
  end
  if WAKE then redis.call('PUBLISH', k_wakeup(), '1') end
end

-- Error replies the SDK turns into its exceptions (one parser: refusal_error() in
-- _library.py): 'NOTFOUND id', 'ILLEGAL action id status' (the action is not allowed from
-- that status), 'UNKNOWNOP op', and create's 'EXISTS ids', 'UNKNOWN ids' and 'PRIORITY n ...'.
-- A reply, not error(): nothing has been written when one is sent.
local function refuse(code, detail)
  return redis.error_reply(code .. ' ' .. detail)
end

-- Registers `body(args)` as FCALL <LIBRARY>_<name> 1 <key prefix> args...: the prefix is
-- the call's one key (every key it builds starts with it), and the deferred writes are
-- flushed however the body returns. `flags`: {'no-writes'} for read-only functions.
local function register(name, body, flags)
  redis.register_function{
    function_name = LIBRARY .. '_' .. name,
    callback = function(keys, args)
      begin(keys[1])
      local result = body(args)
      flush()
      return result
    end,
    flags = flags or {},
  }
end
