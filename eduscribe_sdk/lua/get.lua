-- get: records of several jobs in one round trip, each with its live queue position: the
-- number of queued jobs the fetch would hand out before it, all tiers and aging counted.
-- A job is ahead when its effective rank is better, or equal and it is older. ZCOUNTs only.
-- args: aging_ms, ids... ; returns per job its HGETALL and its position (-1: not queued)

-- Jobs of tier `rank` whose effective rank is <= k, optionally only those older than `cap`.
local function count_le(rank, k, cap, ms, aging)
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

local function position_of(j, ms, aging)
  local score = redis.call('ZSCORE', queue_key(j.priority), j.id)
  if not score then return 0 end  -- fetched by a worker, about to start
  score = tonumber(score)
  local eff = RANK[j.priority] - math.floor((ms - score) / aging)
  if eff < 0 then eff = 0 end
  local position = 0
  for r = 0, 3 do
    position = position + count_le(r, eff - 1, nil, ms, aging) + count_le(r, eff, score, ms, aging)
      - count_le(r, eff - 1, score, ms, aging)
  end
  return position
end

register('get', function(args)
  local aging = tonumber(args[1])
  local ms = now_s() * 1000
  local out = {}
  for i = 2, #args do
    local id = args[i]
    local rec = redis.call('HGETALL', k_job(id))
    local position = -1
    local j = #rec > 0 and load(id)
    if j and j.status == 'queued' then position = position_of(j, ms, aging) end
    table.insert(out, rec)
    table.insert(out, position)
  end
  return out
end, {'no-writes'})
