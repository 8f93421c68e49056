-- Records of several jobs in one round trip, each with its live queue position.
-- Position: jobs that will start before this one now — every job in a higher tier, older
-- jobs of its own tier, and lower-tier jobs old enough to be promoted past it.
-- ARGV: aging_ms, ids...
local aging = tonumber(ARGV[1])
local ms = math.floor(now_s() * 1000)
local out = {}
for i = 2, #ARGV do
  local id = ARGV[i]
  local rec = redis.call('HGETALL', k_job(id))
  local position = -1
  local j = #rec > 0 and load(id)
  if j and j.status == 'queued' then
    local rank = RANK[j.priority]
    local score = redis.call('ZSCORE', queue_key(j.priority), id)
    position = 0
    if score then
      score = tonumber(score)
      position = redis.call('ZRANK', queue_key(j.priority), id)
      for r = 0, 3 do
        local key = queue_key(PRIORITIES[r + 1])
        if r < rank then
          position = position + redis.call('ZCARD', key)
        elseif r > rank then
          local cutoff = math.min(score, ms - (r - rank) * aging)
          position = position + redis.call('ZCOUNT', key, '-inf', '(' .. cutoff)
        end
      end
    end
  end
  table.insert(out, rec)
  table.insert(out, position)
end
return out
