-- create: N jobs atomically, all of them or none (every check runs before any write).
-- args[1] is the mode, args[2] one JSON document (one decode: packing and parsing thousands
-- of separate arguments costs more than the writes themselves):
--   write: [jobs, batches] with jobs [[id, user_id, job_type, priority ('' = the tier's),
--          input_json, max_retries, estimated ('' = none), title, batch_id, [dep ids...],
--          dep ids as JSON, blob sha ('' = none)], ...] and batches {batch_id: {field: value, ...}, ...}: batch
--          metadata, written in the same step as the jobs
--   check (validate only, before a batch written in several calls):
--          [[ids...], [dep ids outside the batch...], [[job number, user_id, priority], ...]]
-- Returns "status:priority" per job, comma-separated, in order ('' for check).

-- The priority a job gets, or nil and an error reply when its user's tier does not allow it.
-- `tiers` caches the users' tiers for one call.
local function priority_of(tiers, n, user_id, requested)
  local tier = tiers[user_id]
  if not tier then
    tier = redis.call('HGET', k_tiers(), user_id) or DEFAULT_TIER
    tiers[user_id] = tier
  end
  local allowed = TIER_PRIORITY[tier] or TIER_PRIORITY[DEFAULT_TIER]
  if requested == '' then return allowed end
  if RANK[requested] == nil then
    return nil, refuse('PRIORITY', n .. ' unknown ' .. requested)
  end
  if RANK[requested] < RANK[allowed] then
    -- The user id goes last: it may contain spaces.
    return nil, refuse('PRIORITY', n .. ' ' .. tier .. ' ' .. allowed .. ' ' .. requested .. ' ' .. user_id)
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

local function check(doc)
  local ids, outside, requested = doc[1], doc[2], doc[3]
  local tiers = {}
  local taken = existing(ids)
  for _, r in ipairs(requested) do
    local p, err = priority_of(tiers, r[1], r[2], r[3])
    if not p then return err end
  end
  if #taken > 0 then return refuse('EXISTS', table.concat(taken, ',')) end
  local unknown = missing(outside)
  if #unknown > 0 then return refuse('UNKNOWN', table.concat(unknown, ',')) end
  return ''
end

-- Jobs stay the arrays cjson made (fields by position, as above): no table per job.
local ID, USER, TYPE, REQUESTED, INPUT, RETRIES, ESTIMATED, TITLE, BATCH, DEPS, DEPS_JSON, BLOB =
  1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12

-- A stored input must still be there: its client holds a lease on it (blobs.lua), or
-- another job or an upload holds it, and no cleanup is deleting it.
local function blobs_gone(jobs)
  local now = string.format('%d', math.floor(now_s() * 1000))
  for _, a in ipairs(jobs) do
    local sha = a[BLOB]
    if sha and sha ~= '' then
      local held = redis.call('SCARD', k_blob_refs(sha)) > 0
        or #redis.call('ZRANGEBYSCORE', k_blob_leases(sha), now, '+inf', 'LIMIT', 0, 1) > 0
      if not held or redis.call('EXISTS', k_blob_deleting(sha)) == 1 then
        return refuse('BLOB', sha)
      end
    end
  end
  return nil
end

-- Every job's priority, or an error reply: the checks of check(), for one write call.
local function validate(jobs)
  local tiers, priorities, ids, in_batch, outside, seen_outside = {}, {}, {}, {}, {}, {}
  for i, a in ipairs(jobs) do
    local p, err = priority_of(tiers, i, a[USER], a[REQUESTED])
    if not p then return nil, err end
    priorities[i] = p
    ids[i] = a[ID]
    in_batch[a[ID]] = true
  end
  local taken = existing(ids)
  if #taken > 0 then return nil, refuse('EXISTS', table.concat(taken, ',')) end
  for _, a in ipairs(jobs) do
    for _, d in ipairs(a[DEPS]) do
      if not in_batch[d] and not seen_outside[d] then
        seen_outside[d] = true
        table.insert(outside, d)
      end
    end
  end
  local unknown = missing(outside)
  if #unknown > 0 then return nil, refuse('UNKNOWN', table.concat(unknown, ',')) end
  local err = blobs_gone(jobs)
  if err then return nil, err end
  return priorities
end

-- A new job's first status (one of INITIAL_STATUSES), with the index entries and counter that
-- set_status() keeps for a move. The record itself is written by the caller.
local function enter(j, status, now)
  j.status = status
  zlater(k_index_all(), j.id, j.created_at)
  zlater(k_index_user(j.user_id), j.id, j.created_at)
  if j.batch_id ~= '' then zlater(k_index_batch(j.batch_id), j.id, j.created_at) end
  zlater(k_index_status(status), j.id, j.created_at)
  count(j, status, 1)
  if status == 'skipped' then zlater(k_index_finished(), j.id, j.created_at) end
  if status == 'queued' then WAKE = true end
  emit(j, status == 'skipped' and 'skipped' or 'created', now, '0')
end

-- Batch metadata, {batch_id: {field: value}}: fields are set (others kept), and a batch is
-- listed by when it was first saved.
local function save_batches(batches, created)
  for batch_id, metadata in pairs(batches) do
    local fields = {}
    for field, value in pairs(metadata) do
      fields[#fields + 1] = field
      fields[#fields + 1] = value
    end
    if #fields > 0 then redis.call('HSET', k_batch(batch_id), unpack(fields)) end
    redis.call('ZADD', k_batches(), 'NX', created, batch_id)
  end
end

-- Each job is written once, straight into its first status: no waiting -> queued hop.
local function write(jobs, batches)
  local priorities, err = validate(jobs)
  if not priorities then return err end
  local now = now_s()
  local created = stamp(now)
  local result = {}
  local status_of = {}  -- statuses decided in this call, for dependencies inside the batch
  for i, a in ipairs(jobs) do
    local j = {id = a[ID], user_id = a[USER], job_type = a[TYPE], priority = priorities[i],
      batch_id = a[BATCH], created_at = created}
    local pending, broken = 0, nil
    for _, d in ipairs(a[DEPS]) do
      local s = status_of[d] or redis.call('HGET', k_job(d), 'status')
      if s ~= 'completed' then
        if FINISHED[s] then broken = broken or d else pending = pending + 1 end
      end
      redis.call('SADD', k_dependents(d), j.id)
    end
    local status = 'waiting'
    if broken then status = 'skipped' elseif pending == 0 then status = 'queued' end
    status_of[j.id] = status
    local queued_at = created
    if status == 'queued' then
      local us = next_queued_us(now)
      queued_at = micros(us)
      redis.call('ZADD', queue_key(j.priority), queue_score(us), j.id)
    end
    -- Fields in load()'s order, then what a claim reads (see FIELDS in common.lua).
    redis.call('HSET', k_job(j.id), 'status', status, 'priority', j.priority, 'job_type', j.job_type,
      'created_at', created, 'worker_id', '', 'attempt', '0', 'queued_at', queued_at, 'started_at', '',
      'user_id', j.user_id, 'batch_id', j.batch_id, 'retry_count', '0', 'max_retries', a[RETRIES],
      'input', a[INPUT], 'title', a[TITLE], 'depends_on', a[DEPS_JSON], 'id', j.id,
      'progress', '0', 'updated_at', created, 'estimated_duration', a[ESTIMATED],
      'pending', int(pending))
    if a[BLOB] and a[BLOB] ~= '' then
      redis.call('HSET', k_job(j.id), 'blob', a[BLOB])
      redis.call('SADD', k_blob_refs(a[BLOB]), j.id)
    end
    if status == 'skipped' then
      redis.call('HSET', k_job(j.id), 'completed_at', created, 'error_message',
        broken_reason(broken, status_of[broken]))
    end
    enter(j, status, now)
    result[i] = status .. ':' .. j.priority
  end
  save_batches(batches, created)
  return table.concat(result, ',')
end

register('create', function(args)
  local doc = cjson.decode(args[2])
  if args[1] == 'check' then return check(doc) end
  return write(doc[1], doc[2])
end)
