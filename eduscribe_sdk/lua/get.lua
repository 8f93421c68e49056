-- Records of several jobs in one round trip, each with its live queue position: the number
-- of queued jobs the fetch (fetch.lua) would hand out before it, all tiers and aging counted.
-- A job is ahead when its effective rank is better, or equal and it is older. ZCOUNTs only.
-- ARGV: aging_ms, ids...
local aging = tonumber(ARGV[1])
local ms = now_s() * 1000

-- Jobs of tier `rank` whose effective rank is <= k, optionally only those older than `cap`.
local function count_le(rank, k, cap)
  if k < 0 then return 0 end
  local key = queue_key(PRIORITIES[rank + 1])
  local upper = nil
  if rank > k then upper = ms - (rank - k) * aging end
  local bound
  if cap and (not upper or cap <= upper) then
    bound = '(' .. string.format('%.3f', cap)
  elseif upper then
    bound = string.format('%.3f', upper)
  else
    bound = '+inf'
  end
  return redis.call('ZCOUNT', key, '-inf', bound)
end

local out = {}
for i = 2, #ARGV do
  local id = ARGV[i]
  local rec = redis.call('HGETALL', k_job(id))
  local position = -1
  local j = #rec > 0 and load(id)
  if j and j.status == 'queued' then
    position = 0  -- fetched by a worker, about to start
    local score = redis.call('ZSCORE', queue_key(j.priority), id)
    if score then
      score = tonumber(score)
      local eff = RANK[j.priority] - math.floor((ms - score) / aging)
      if eff < 0 then eff = 0 end
      for r = 0, 3 do
        position = position + count_le(r, eff - 1, nil) + count_le(r, eff, score) - count_le(r, eff - 1, score)
      end
    end
  end
  table.insert(out, rec)
  table.insert(out, position)
end
return out
