-- apikey: API keys of the web service. A key is stored by the SHA-256 of its text, never as
-- itself; `{p}:apikeys` maps a key's public id to that digest, so an admin can list and
-- revoke keys without ever seeing one.
-- args: op, then
--   create: digest, key_id, user_id, admin ('1'/'0'), name ('' for none)
--   revoke: key_id                       -> 1 if a key was removed, 0 if there was none
--   auth:   digest, per_second, burst    -> {key_id, user_id, admin, created_at, name, wait_ms}
--           or nil for an unknown key. wait_ms > 0: over the rate limit, try again then
--           (nothing counted). per_second '0' turns the limit off.
--   list:   ''/user_id                   -> flat {key_id, user_id, admin, created_at, name, ...}

local KEY_FIELDS = {'key_id', 'user_id', 'admin', 'created_at', 'name'}

local function create(args)
  local digest, key_id = args[2], args[3]
  if redis.call('HSETNX', k_apikeys(), key_id, digest) == 0 then
    return refuse('KEYEXISTS', key_id)
  end
  redis.call('HSET', k_apikey(digest), 'key_id', key_id, 'user_id', args[4], 'admin', args[5],
    'created_at', stamp(now_s()), 'name', args[6])
  return 1
end

local function revoke(key_id)
  local digest = redis.call('HGET', k_apikeys(), key_id)
  if not digest then return 0 end
  redis.call('HDEL', k_apikeys(), key_id)
  redis.call('DEL', k_apikey(digest), k_ratelimit(key_id))
  return 1
end

-- The generic cell rate algorithm: one stored time per key (when its bucket will be empty),
-- so a key gets `per_second` requests a second on average and `burst` at once, with no
-- window edges to game. The time is kept to the microsecond: rounding it up on every call
-- added up within a burst and refused its last request.
local function over_limit(key_id, per_second, burst)
  if per_second <= 0 then return 0 end
  local now_ms = now_s() * 1000
  local interval = 1000 / per_second
  local tat = tonumber(redis.call('GET', k_ratelimit(key_id)) or '0')
  if tat < now_ms then tat = now_ms end
  local allowed_at = tat + interval - burst * interval
  if now_ms < allowed_at then return math.ceil(allowed_at - now_ms) end
  local new_tat = tat + interval
  redis.call('SET', k_ratelimit(key_id), string.format('%.3f', new_tat), 'PX', int(math.ceil(new_tat - now_ms) + 1))
  return 0
end

local function auth(args)
  local fields = redis.call('HMGET', k_apikey(args[2]), unpack(KEY_FIELDS))
  if not fields[1] then return nil end
  table.insert(fields, over_limit(fields[1], tonumber(args[3]), tonumber(args[4])))
  return fields
end

local function list(user_id)
  local out = {}
  for _, digest in ipairs(redis.call('HVALS', k_apikeys())) do
    local fields = redis.call('HMGET', k_apikey(digest), unpack(KEY_FIELDS))
    if fields[1] and (user_id == '' or fields[2] == user_id) then
      for _, v in ipairs(fields) do table.insert(out, v) end
    end
  end
  return out
end

register('apikey', function(args)
  local op = args[1]
  if op == 'auth' then return auth(args) end
  if op == 'create' then return create(args) end
  if op == 'revoke' then return revoke(args[2]) end
  if op == 'list' then return list(args[2]) end
  return refuse('UNKNOWNOP', op)
end)
