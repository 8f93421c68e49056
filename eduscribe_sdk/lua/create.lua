-- Creates N jobs atomically: all of them, or none (every check runs before any write).
-- ARGV: mode, then one JSON array per job (one argument each: packing and parsing thousands
-- of separate arguments costs more than the script itself):
--   write: [id, user_id, job_type, priority ('' = the tier's), input_json, max_retries,
--           estimated ('' = none), title, batch_id, [dep ids...]]
--   check (validate only, for batches written in several calls): [id, user_id, priority, [dep ids...]]
-- Returns "status:priority" per job, comma-separated, in order.
local mode = ARGV[1]
local jobs = {}
for i = 2, #ARGV do
  local a = cjson.decode(ARGV[i])
  local j
  if mode == 'check' then
    j = {id = a[1], user_id = a[2], requested = a[3], deps = a[4]}
  else
    j = {id = a[1], user_id = a[2], job_type = a[3], requested = a[4], input = a[5],
         max_retries = a[6], estimated = a[7], title = a[8], batch_id = a[9], deps = a[10]}
    j.depends_on = (#j.deps > 0) and cjson.encode(j.deps) or '[]'
  end
  jobs[i - 1] = j
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
if mode == 'check' then return '' end

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
    for _, v in ipairs({'completed_at', stamp, 'error_message', broken_reason(broken)}) do
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
  table.insert(result, status .. ':' .. j.priority)
end
for ckey, n in pairs(counts) do redis.call('HINCRBY', k_counts(), ckey, n) end
wake()
return table.concat(result, ',')
