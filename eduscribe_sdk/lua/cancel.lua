-- Cancels a job that has not finished; its waiting dependents are skipped.
-- A running job is marked at once; its worker stops at the next progress report.
-- ARGV: id
local id = ARGV[1]
local j = load(id)
if not j then return redis.error_reply('NOTFOUND ' .. id) end
if FINISHED[j.status] then return redis.error_reply('ILLEGAL ' .. j.status) end
local now = now_s()
redis.call('ZREM', queue_key(j.priority), id)
redis.call('ZREM', k_delayed(), id)
finish(j, 'cancelled', now, {'error_message', 'cancelled'})
emit(j, 'cancelled', now)
return skip_descendants(id, 'dependency ' .. id .. ' was cancelled', now)
