-- Creates N jobs atomically: all of them, or none (every check runs before any write).
-- ARGV[1] is the mode, ARGV[2] one JSON document (one decode: packing and parsing thousands of
-- separate arguments costs more than the writes themselves):
--   write: [[id, user_id, job_type, priority ('' = the tier's), input_json, max_retries,
--            estimated ('' = none), title, batch_id, [dep ids...], dep ids as JSON], ...]
--   check (validate only, before a batch written in several calls):
--          [[ids...], [dep ids outside the batch...], [[job number, user_id, priority], ...]]
-- Returns "status:priority" per job, comma-separated, in order ('' for check).
local mode = ARGV[1]
local doc = cjson.decode(ARGV[2])
local ALLOWED = {enterprise = 'urgent', premium = 'high', basic = 'normal', free = 'low'}
local tiers = {}

-- The priority a job gets, or nil and an error reply when its user's tier does not allow it.
local function priority_of(n, user_id, requested)
  local tier = tiers[user_id]
  if not tier then
    tier = redis.call('HGET', k_tiers(), user_id) or 'free'
    tiers[user_id] = tier
  end
  local allowed = ALLOWED[tier] or 'low'
  if requested == '' then return allowed end
  if RANK[requested] == nil then
    return nil, redis.error_reply('PRIORITY ' .. n .. ' unknown ' .. requested)
  end
  if RANK[requested] < RANK[allowed] then
    return nil, redis.error_reply('PRIORITY ' .. n .. ' ' .. tier .. ' ' .. allowed .. ' ' .. requested)
  end
  return requested
end

-- The ids in `ids` that have a job record; EXISTS takes many keys, and the usual answer is 0.
local function existing(ids)
  local found = {}
  for s = 1, #ids, 1000 do
    local last = math.min(s + 999, #ids)
    local keys = {}
    for i = s, last do keys[#keys + 1] = k_job(ids[i]) end
    if redis.call('EXISTS', unpack(keys)) > 0 then
      for i = s, last do
        if redis.call('EXISTS', keys[i - s + 1]) == 1 then table.insert(found, ids[i]) end
      end
    end
  end
  return found
end

local function missing(ids)
  local present = {}
  for _, id in ipairs(existing(ids)) do present[id] = true end
  local absent = {}
  for _, id in ipairs(ids) do
    if not present[id] then table.insert(absent, id) end
  end
  return absent
end

if mode == 'check' then
  local ids, outside, requested = doc[1], doc[2], doc[3]
  local taken = existing(ids)
  for _, r in ipairs(requested) do
    local p, err = priority_of(r[1], r[2], r[3])
    if not p then return err end
  end
  if #taken > 0 then return redis.error_reply('EXISTS ' .. table.concat(taken, ',')) end
  local unknown = missing(outside)
  if #unknown > 0 then return redis.error_reply('UNKNOWN ' .. table.concat(unknown, ',')) end
  return ''
end

-- Jobs stay the arrays cjson made (fields by position, as above): no table per job.
local ID, USER, TYPE, REQUESTED, INPUT, RETRIES, ESTIMATED, TITLE, BATCH, DEPS, DEPS_JSON = 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11
local priorities, ids, in_batch, outside, seen_outside = {}, {}, {}, {}, {}
for i, a in ipairs(doc) do
  local p, err = priority_of(i, a[USER], a[REQUESTED])
  if not p then return err end
  priorities[i] = p
  ids[i] = a[ID]
  in_batch[a[ID]] = true
end
local taken = existing(ids)
if #taken > 0 then return redis.error_reply('EXISTS ' .. table.concat(taken, ',')) end
for _, a in ipairs(doc) do
  for _, d in ipairs(a[DEPS]) do
    if not in_batch[d] and not seen_outside[d] then
      seen_outside[d] = true
      table.insert(outside, d)
    end
  end
end
local unknown = missing(outside)
if #unknown > 0 then return redis.error_reply('UNKNOWN ' .. table.concat(unknown, ',')) end

local now = now_s()
local now_us = math.floor(now * 1000000)
local stamp = micros(now_us)
local events = k_events()
local result = {}
local status_of = {}  -- statuses decided in this call, for dependencies inside the batch
local counts = {}
-- Index entries are gathered per index and written with a few variadic ZADDs at the end.
local members, indexes, by_user, by_batch, by_status = {}, {}, {}, {}, {}
local function index_of(key)
  return table_for(members, indexes, key)
end
-- The entries of index `key_of(name)`; a batch repeats its user, batch and statuses, so each
-- of those keys is built once.
local function entries(cache, name, key_of)
  local m = cache[name]
  if not m then
    m = index_of(key_of(name))
    cache[name] = m
  end
  return m
end
local everything = index_of(k_index_all())

-- Each job is written once, straight into its final status: no waiting -> queued hop.
for i, a in ipairs(doc) do
  local id, user, batch, priority = a[ID], a[USER], a[BATCH], priorities[i]
  local key = k_job(id)
  local pending, broken = 0, nil
  for _, d in ipairs(a[DEPS]) do
    local s = status_of[d] or redis.call('HGET', k_job(d), 'status')
    if s ~= 'completed' then
      if FINISHED[s] then broken = broken or d else pending = pending + 1 end
    end
    redis.call('SADD', k_dependents(d), id)
  end
  local status = 'waiting'
  if broken then status = 'skipped' elseif pending == 0 then status = 'queued' end
  status_of[id] = status
  local queued_at = stamp
  if status == 'queued' then
    -- Same clock reading for the whole batch: a microsecond step keeps FIFO order (see enqueue).
    local us = now_us + SEQ
    SEQ = SEQ + 1
    queued_at = micros(us)
    redis.call('ZADD', queue_key(priority), queue_score(us), id)
    WAKE = true
  end
  -- Fields in load()'s order, then what a claim reads: a small hash is a list that each
  -- field lookup walks from the start, and every transition looks these up.
  redis.call('HSET', key, 'status', status, 'priority', priority, 'job_type', a[TYPE],
    'created_at', stamp, 'worker_id', '', 'attempt', '0', 'queued_at', queued_at, 'started_at', '',
    'user_id', user, 'batch_id', batch, 'retry_count', '0', 'max_retries', a[RETRIES],
    'input', a[INPUT], 'title', a[TITLE], 'depends_on', a[DEPS_JSON], 'id', id,
    'progress', '0', 'updated_at', stamp, 'estimated_duration', a[ESTIMATED],
    'pending', string.format('%d', pending))
  if status == 'skipped' then
    redis.call('HSET', key, 'completed_at', stamp, 'error_message', broken_reason(broken))
    local finished = index_of(k_index_finished())
    finished[#finished + 1] = id
  end
  everything[#everything + 1] = id
  local m = entries(by_user, user, k_index_user)
  m[#m + 1] = id
  if batch ~= '' then
    m = entries(by_batch, batch, k_index_batch)
    m[#m + 1] = id
  end
  m = entries(by_status, status, k_index_status)
  m[#m + 1] = id
  local ckey = priority .. '|' .. a[TYPE] .. '|' .. status
  counts[ckey] = (counts[ckey] or 0) + 1
  -- The events of emit(), with the stream trimmed once below instead of on every entry.
  redis.call('XADD', events, '*', 'job', id, 'kind', status == 'skipped' and 'skipped' or 'created',
    'status', status, 'progress', '0', 'at', stamp, 'batch', batch)
  result[i] = status .. ':' .. priority
end
redis.call('XTRIM', events, 'MAXLEN', '~', EVENTS_MAXLEN)
for _, key in ipairs(indexes) do
  local m = members[key]
  -- unpack has a stack limit (LUAI_MAXCSTACK, 8000): 2,000 score/member pairs a call.
  for s = 1, #m, 2000 do
    local args, n = {}, 0
    for k = s, math.min(s + 1999, #m) do
      args[n + 1] = stamp
      args[n + 2] = m[k]
      n = n + 2
    end
    redis.call('ZADD', key, unpack(args))
  end
end
for ckey, n in pairs(counts) do redis.call('HINCRBY', k_counts(), ckey, string.format('%d', n)) end
return table.concat(result, ',')
