-- Creates N jobs atomically: all of them, or none (every check runs before any write).
-- ARGV: mode, count, then per job:
--   write: id, user_id, job_type, priority ('' = the tier's), input_json, max_retries,
--          estimated ('' = none), title, batch_id, depends_on_json, n, dep ids...
--   check (validate only, for batches written in several calls): id, user_id, priority, n, dep ids...
local mode = ARGV[1]
local n_jobs = tonumber(ARGV[2])
local jobs, pos = {}, 3
for i = 1, n_jobs do
  local j
  if mode == 'check' then  -- only what the checks read: id, user_id, priority, n, dep ids...
    j = {id = ARGV[pos], user_id = ARGV[pos + 1], requested = ARGV[pos + 2], deps = {}}
    pos = pos + 3
  else
    j = {id = ARGV[pos], user_id = ARGV[pos + 1], requested = ARGV[pos + 3], job_type = ARGV[pos + 2],
         input = ARGV[pos + 4], max_retries = ARGV[pos + 5], estimated = ARGV[pos + 6],
         title = ARGV[pos + 7], batch_id = ARGV[pos + 8], depends_on = ARGV[pos + 9], deps = {}}
    pos = pos + 10
  end
  local nd = tonumber(ARGV[pos])
  for k = 1, nd do j.deps[k] = ARGV[pos + k] end
  pos = pos + 1 + nd
  jobs[i] = j
end

local in_batch, tiers, unknown, existing = {}, {}, {}, {}
for _, j in ipairs(jobs) do in_batch[j.id] = true end
for i, j in ipairs(jobs) do
  if redis.call('EXISTS', k_job(j.id)) == 1 then table.insert(existing, j.id) end
  local tier = tiers[j.user_id]
  if not tier then
    tier = redis.call('HGET', k_tiers(), j.user_id) or 'free'
    tiers[j.user_id] = tier
  end
  local allowed = ({enterprise = 'urgent', premium = 'high', basic = 'normal', free = 'low'})[tier] or 'low'
  if j.requested == '' then
    j.priority = allowed
  elseif RANK[j.requested] == nil then
    return redis.error_reply('PRIORITY ' .. i .. ' unknown ' .. j.requested)
  elseif RANK[j.requested] < RANK[allowed] then
    return redis.error_reply('PRIORITY ' .. i .. ' ' .. tier .. ' ' .. allowed .. ' ' .. j.requested)
  else
    j.priority = j.requested
  end
  for _, d in ipairs(j.deps) do
    if not in_batch[d] and redis.call('EXISTS', k_job(d)) == 0 then table.insert(unknown, d) end
  end
end
if #existing > 0 then return redis.error_reply('EXISTS ' .. table.concat(existing, ',')) end
if #unknown > 0 then return redis.error_reply('UNKNOWN ' .. table.concat(unknown, ',')) end
if mode == 'check' then return {} end

local now = now_s()
local stamp = string.format('%.6f', now)
local result = {}
local status_of = {}  -- statuses decided in this call, for dependencies inside the batch
local counts = {}
-- Each job is written once, straight into its final status: no waiting -> queued hop.
for _, j in ipairs(jobs) do
  local key = k_job(j.id)
  local pending, broken = 0, nil
  for _, d in ipairs(j.deps) do
    local s = status_of[d] or redis.call('HGET', k_job(d), 'status')
    if s ~= 'completed' then
      if FINISHED[s] then broken = broken or d else pending = pending + 1 end
    end
    redis.call('SADD', k_dependents(d), j.id)
  end
  local status = 'waiting'
  if broken then status = 'skipped' elseif pending == 0 then status = 'queued' end
  status_of[j.id] = status
  local fields = {'id', j.id, 'user_id', j.user_id, 'job_type', j.job_type,
    'status', status, 'priority', j.priority, 'input', j.input, 'progress', 0,
    'retry_count', 0, 'max_retries', j.max_retries, 'created_at', stamp, 'updated_at', stamp,
    'estimated_duration', j.estimated, 'title', j.title, 'batch_id', j.batch_id,
    'depends_on', j.depends_on, 'attempt', 0, 'pending', pending}
  local rec = {id = j.id, status = status, priority = j.priority, job_type = j.job_type,
               created_at = stamp, batch_id = j.batch_id}
  if status == 'queued' then
    -- Same clock reading for the whole batch: a microsecond step keeps FIFO order (see enqueue).
    local score = now * 1000 + SEQ * 0.001
    SEQ = SEQ + 1
    table.insert(fields, 'queued_at')
    table.insert(fields, string.format('%.6f', score / 1000))
    redis.call('ZADD', queue_key(j.priority), string.format('%.3f', score), j.id)
    WAKE = true
  else
    table.insert(fields, 'queued_at')
    table.insert(fields, stamp)
  end
  if status == 'skipped' then
    for _, v in ipairs({'completed_at', stamp, 'error_message', 'dependency ' .. broken .. ' did not complete'}) do
      table.insert(fields, v)
    end
    redis.call('ZADD', k_index_finished(), now, j.id)
  end
  redis.call('HSET', key, unpack(fields))
  redis.call('ZADD', k_index_all(), now, j.id)
  redis.call('ZADD', k_index_user(j.user_id), now, j.id)
  if j.batch_id ~= '' then redis.call('ZADD', k_index_batch(j.batch_id), now, j.id) end
  redis.call('ZADD', k_index_status(status), now, j.id)
  local ckey = j.priority .. '|' .. j.job_type .. '|' .. status
  counts[ckey] = (counts[ckey] or 0) + 1
  emit(rec, status == 'skipped' and 'skipped' or 'created', now, 0)
  table.insert(result, j.id)
  table.insert(result, status)
  table.insert(result, j.priority)
end
for ckey, n in pairs(counts) do redis.call('HINCRBY', k_counts(), ckey, n) end
wake()
return result
