-- Creates N jobs atomically: all of them, or none (every check runs before any write).
-- ARGV: count, then per job: id, user_id, job_type, priority ('' = the tier's), input_json,
--       max_retries, estimated ('' = none), title, batch_id, depends_on_json, n, dep ids...
local n_jobs = tonumber(ARGV[1])
local jobs, pos = {}, 2
for i = 1, n_jobs do
  local j = {id = ARGV[pos], user_id = ARGV[pos + 1], job_type = ARGV[pos + 2],
             requested = ARGV[pos + 3], input = ARGV[pos + 4], max_retries = ARGV[pos + 5],
             estimated = ARGV[pos + 6], title = ARGV[pos + 7], batch_id = ARGV[pos + 8],
             depends_on = ARGV[pos + 9], deps = {}}
  local nd = tonumber(ARGV[pos + 10])
  for k = 1, nd do j.deps[k] = ARGV[pos + 10 + k] end
  pos = pos + 11 + nd
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

local now = now_s()
local stamp = string.format('%.6f', now)
local result = {}
for _, j in ipairs(jobs) do
  local key = k_job(j.id)
  redis.call('HSET', key, 'id', j.id, 'user_id', j.user_id, 'job_type', j.job_type,
    'status', 'waiting', 'priority', j.priority, 'input', j.input, 'progress', 0,
    'retry_count', 0, 'max_retries', j.max_retries, 'created_at', stamp, 'updated_at', stamp,
    'queued_at', stamp, 'estimated_duration', j.estimated, 'title', j.title,
    'batch_id', j.batch_id, 'depends_on', j.depends_on, 'attempt', 0)
  redis.call('ZADD', k_index_all(), now, j.id)
  redis.call('ZADD', k_index_user(j.user_id), now, j.id)
  if j.batch_id ~= '' then redis.call('ZADD', k_index_batch(j.batch_id), now, j.id) end
  local rec = {id = j.id, status = 'waiting', priority = j.priority, job_type = j.job_type,
               created_at = stamp, batch_id = j.batch_id}
  redis.call('ZADD', k_index_status('waiting'), now, j.id)
  count(rec, 'waiting', 1)
  for _, d in ipairs(j.deps) do redis.call('SADD', k_dependents(d), j.id) end
  local pending, broken = pending_of(j.id)
  if broken then
    finish(rec, 'skipped', now)
    redis.call('HSET', key, 'error_message', 'dependency ' .. broken .. ' did not complete')
    emit(rec, 'skipped', now)
  elseif pending == 0 then
    enqueue(rec, now, 'created')
  else
    redis.call('HSET', key, 'pending', pending)
    emit(rec, 'created', now, 0)
  end
  table.insert(result, j.id)
  table.insert(result, rec.status)
  table.insert(result, j.priority)
end
wake()
return result
