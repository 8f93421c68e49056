-- cleanup: removes up to `limit` jobs that finished before `cutoff`, with every index entry
-- they had. A job that an unfinished job still depends on is kept (its output is that job's
-- input). args: cutoff_s, limit ; returns {removed, examined}

local function needed(id)
  for _, d in ipairs(redis.call('SMEMBERS', k_dependents(id))) do
    local s = redis.call('HGET', k_job(d), 'status')
    if s and not FINISHED[s] then return true end
  end
  return false
end

local function remove(j)
  local id = j.id
  zlater(k_index_all(), id, false)
  zlater(k_index_status(j.status), id, false)
  redis.call('ZREM', k_index_user(j.user_id), id)
  if j.batch_id and j.batch_id ~= '' then
    redis.call('ZREM', k_index_batch(j.batch_id), id)
    if redis.call('ZCARD', k_index_batch(j.batch_id)) == 0 then
      redis.call('DEL', k_batch(j.batch_id))
      redis.call('ZREM', k_batches(), j.batch_id)
    end
  end
  if redis.call('ZCARD', k_index_user(j.user_id)) == 0 then redis.call('DEL', k_index_user(j.user_id)) end
  count(j, j.status, -1)
  local blob = redis.call('HGET', k_job(id), 'blob')
  if blob and blob ~= '' then
    -- Its stored input: with no other user left, blobs.lua's gc looks at it.
    redis.call('SREM', k_blob_refs(blob), id)
    if redis.call('SCARD', k_blob_refs(blob)) == 0 then
      redis.call('ZADD', k_blobs(), stamp(now_s()), blob)
    end
  end
  local raw = redis.call('HGET', k_job(id), 'depends_on')
  if raw and raw ~= '' then
    for _, d in ipairs(cjson.decode(raw)) do redis.call('SREM', k_dependents(d), id) end
  end
  redis.call('DEL', k_job(id), k_dependents(id))
end

register('cleanup', function(args)
  local cutoff, limit = args[1], tonumber(args[2])
  local ids = redis.call('ZRANGEBYSCORE', k_index_finished(), '-inf', cutoff, 'LIMIT', 0, limit)
  local removed = 0
  for _, id in ipairs(ids) do
    local j = load(id)
    if not (j and needed(id)) then
      zlater(k_index_finished(), id, false)
      if j then remove(j) end
      removed = removed + 1
    end
  end
  return {removed, #ids}
end)
