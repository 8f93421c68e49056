-- control: what operators ask of every worker, on any machine (eduscribe_sdk/_control.py).
-- One hash holds it all, so that a fetch reads every control that applies to it in one HMGET:
-- 'paused:<priority>' = '1' while that tier's queue is paused, and 'worker:<id>' = 'drain' or
-- 'restart' for a worker asked to take nothing new (and, for restart, to exit once idle).
-- args: op, then
--   pause:  priorities...                          -> 0
--   resume: priorities... (none: every tier, and every drain ends; restarts stay asked) -> 0
--   ask:    mode ('drain' | 'restart'), timeout_ms, worker id or '' for every live worker
--           -> how many live workers were asked

local function pause(args)
  for i = 2, #args do redis.call('HSET', k_control(), 'paused:' .. args[i], '1') end
  return 0
end

local function resume(args)
  if #args > 1 then
    for i = 2, #args do redis.call('HDEL', k_control(), 'paused:' .. args[i]) end
  else
    local flat = redis.call('HGETALL', k_control())
    for i = 1, #flat, 2 do
      if flat[i]:sub(1, 7) == 'paused:' or flat[i + 1] == 'drain' then
        redis.call('HDEL', k_control(), flat[i])
      end
    end
  end
  -- Idle consumers wait on the wake-up channel: paused work is there for them now.
  WAKE = true
  return 0
end

local function ask(mode, timeout, target)
  local ms = math.floor(now_s() * 1000)
  local asked = {}
  if target ~= '' then
    local seen = redis.call('ZSCORE', k_workers(), target)
    if seen and tonumber(seen) >= ms - timeout then asked = {target} end
  else
    asked = redis.call('ZRANGEBYSCORE', k_workers(), int(ms - timeout), '+inf')
  end
  for _, w in ipairs(asked) do
    local field = 'worker:' .. w
    -- Drain is the lesser request: it never turns a restart asked earlier back into a drain.
    if mode == 'restart' or redis.call('HGET', k_control(), field) ~= 'restart' then
      redis.call('HSET', k_control(), field, mode)
    end
  end
  return #asked
end

register('control', function(args)
  local op = args[1]
  if op == 'pause' then return pause(args) end
  if op == 'resume' then return resume(args) end
  if op == 'ask' and (args[2] == 'drain' or args[2] == 'restart') then
    return ask(args[2], tonumber(args[3]), args[4] or '')
  end
  return refuse('UNKNOWNOP', op)
end)
