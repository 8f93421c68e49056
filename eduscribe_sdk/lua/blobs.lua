-- blobs: who needs each stored input (file and video jobs, uploads), so that cleanup deletes
-- a blob only when nothing needs it and nothing is about to. args[1] is the operation:
--   lease token ttl_ms sha...   a client is storing these blobs for a job or an upload it is
--                               about to create: cleanup leaves them alone until the lease
--                               expires or is released. Replies '' or the first sha that
--                               cleanup is deleting right now (the client waits and leases
--                               again, then stores the blob again).
--   release token deleting_ttl_ms sha...
--                               the client is done (its job exists, or it gave up); replies
--                               the shas nothing needs any more, marked for deletion (the
--                               client deletes them, then calls forget).
--   upload id sha filename size content_type user_id
--                               records an upload (the client holds a lease on sha).
--   resolve token ttl_ms id user_id
--                               an upload's fields (flat), leasing its blob for the job about
--                               to use it; marks the upload used now. Refuses 'UPLOAD id' when
--                               there is none, or it is another user's.
--   expire_uploads cutoff_s limit
--                               removes up to `limit` uploads unused since the cutoff; replies
--                               how many.
--   mark deleting_ttl_ms sha... of the given blobs (taken from the blobs zset), marks those
--                               that nothing needs as being deleted and replies their shas
--                               (the caller deletes them, then calls forget).
--   forget sha...               the blobs are deleted from the store: drop what is left.
-- A job holds its blob from create (create.lua) until cleanup removes the job (cleanup.lua).

local function now_ms()
  return math.floor(now_s() * 1000)
end

local function leased(sha)
  local live = redis.call('ZRANGEBYSCORE', k_blob_leases(sha), int(now_ms()), '+inf', 'LIMIT', 0, 1)
  return #live > 0
end

local function lease(token, ttl_ms, shas)
  for _, sha in ipairs(shas) do
    if redis.call('EXISTS', k_blob_deleting(sha)) == 1 then return sha end
  end
  local expiry = int(now_ms() + tonumber(ttl_ms))
  for _, sha in ipairs(shas) do
    redis.call('ZADD', k_blob_leases(sha), expiry, token)
    -- Looked at by cleanup once the lease is over, in case no job ever takes it.
    redis.call('ZADD', k_blobs(), 'NX', stamp(now_s()), sha)
  end
  return ''
end

-- The one rule of what happens to a blob once its expired leases are gone: with users (jobs,
-- uploads) it leaves cleanup's list (it comes back when its last user goes); with no user and
-- no live lease it is marked for deletion (NX: a cleanup already deleting it keeps it) and
-- added to `doomed`, the shas whose bytes the caller deletes.
local function doom_if_unused(sha, now, deleting_ttl_ms, doomed)
  redis.call('ZREMRANGEBYSCORE', k_blob_leases(sha), '-inf', '(' .. now)
  if redis.call('SCARD', k_blob_refs(sha)) > 0 then
    redis.call('ZREM', k_blobs(), sha)
  elseif redis.call('EXISTS', k_blob_leases(sha)) == 0
      and redis.call('SET', k_blob_deleting(sha), '1', 'NX', 'PX', deleting_ttl_ms) then
    doomed[#doomed + 1] = sha
  end
end

-- A lease given back: a blob nobody needs then (the creation it was stored for failed) is
-- marked for deletion at once and its sha replied, so that a failed creation leaves nothing.
local function release(token, deleting_ttl_ms, shas)
  local doomed = {}
  local now = int(now_ms())
  for _, sha in ipairs(shas) do
    redis.call('ZREM', k_blob_leases(sha), token)
    doom_if_unused(sha, now, deleting_ttl_ms, doomed)
  end
  return doomed
end

-- One fewer user of `sha`: with none left, cleanup looks at it.
local function unref(sha, who)
  redis.call('SREM', k_blob_refs(sha), who)
  if redis.call('SCARD', k_blob_refs(sha)) == 0 then
    redis.call('ZADD', k_blobs(), stamp(now_s()), sha)
  end
end

local function expire_uploads(cutoff, limit)
  local ids = redis.call('ZRANGEBYSCORE', k_uploads(), '-inf', cutoff, 'LIMIT', 0, limit)
  for _, id in ipairs(ids) do
    local sha = redis.call('HGET', k_upload(id), 'blob')
    redis.call('DEL', k_upload(id))
    redis.call('ZREM', k_uploads(), id)
    if sha then unref(sha, 'upload:' .. id) end
  end
  return #ids
end

local function mark(deleting_ttl_ms, shas)
  local doomed = {}
  local now = int(now_ms())
  for _, sha in ipairs(shas) do
    doom_if_unused(sha, now, deleting_ttl_ms, doomed)
  end
  return doomed
end

register('blobs', function(args)
  local op = args[1]
  if op == 'lease' then return lease(args[2], args[3], {unpack(args, 4)}) end
  if op == 'release' then return release(args[2], args[3], {unpack(args, 4)}) end
  if op == 'upload' then
    local id, sha = args[2], args[3]
    redis.call('HSET', k_upload(id), 'blob', sha, 'filename', args[4], 'size', args[5],
      'contentType', args[6], 'user_id', args[7], 'created_at', stamp(now_s()))
    redis.call('ZADD', k_uploads(), stamp(now_s()), id)
    redis.call('SADD', k_blob_refs(sha), 'upload:' .. id)
    return ''
  end
  if op == 'resolve' then
    -- Another user's upload reads as no upload at all: its id tells nothing.
    if redis.call('HGET', k_upload(args[4]), 'user_id') ~= args[5] then return refuse('UPLOAD', args[4]) end
    local fields = redis.call('HGETALL', k_upload(args[4]))
    local sha = redis.call('HGET', k_upload(args[4]), 'blob')
    -- An upload holds its blob, so no cleanup can be deleting it: the lease always holds.
    lease(args[2], args[3], {sha})
    redis.call('ZADD', k_uploads(), stamp(now_s()), args[4])
    return fields
  end
  if op == 'expire_uploads' then return expire_uploads(args[2], tonumber(args[3])) end
  if op == 'mark' then return mark(args[2], {unpack(args, 3)}) end
  if op == 'forget' then
    for i = 2, #args do
      local sha = args[i]
      redis.call('DEL', k_blob_deleting(sha), k_blob_leases(sha))
      redis.call('ZREM', k_blobs(), sha)
    end
    return ''
  end
  return refuse('UNKNOWNOP', tostring(op))
end)
