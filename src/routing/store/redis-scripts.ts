/**
 * Lua scripts of the Redis route store. Each runs atomically in Redis, which is what lets
 * replicas change routes and credit rewards concurrently without losing or doubling any.
 * (They touch keys named inside the record they read, so they suit a single Redis or a
 * primary with replicas, not Redis Cluster.)
 */

/**
 * A route change with its audit entry.
 * KEYS: routes hash, revisions hash, revision counter, audit list, counter hashes to delete…
 * ARGV: name, expected revision (-1 any, 0 absent), record JSON ('' = delete), audit JSON ('' = none), audit length, channel
 * → the new revision, or -1 when the route's revision was not the expected one.
 */
export const WRITE_ROUTE = `
local current = tonumber(redis.call('HGET', KEYS[2], ARGV[1]) or '0')
local expected = tonumber(ARGV[2])
if expected >= 0 and current ~= expected then return -1 end
local rev = redis.call('INCR', KEYS[3])
if ARGV[3] == '' then
  redis.call('HDEL', KEYS[1], ARGV[1])
  redis.call('HDEL', KEYS[2], ARGV[1])
else
  redis.call('HSET', KEYS[1], ARGV[1], ARGV[3])
  redis.call('HSET', KEYS[2], ARGV[1], rev)
end
if ARGV[4] ~= '' then
  redis.call('LPUSH', KEYS[4], ARGV[4])
  redis.call('LTRIM', KEYS[4], 0, tonumber(ARGV[5]) - 1)
end
for i = 5, #KEYS do redis.call('DEL', KEYS[i]) end
redis.call('PUBLISH', ARGV[6], ARGV[1])
return rev
`;

/**
 * Credits a reward once.
 * KEYS: the request's record, its "credited" marker
 * ARGV: reward, reward squared, marker TTL (s), counter key prefix
 * The record is "<kind>\\n<hash>\\n<field prefix>\\n<route>".
 * → {'credited', record} | {'invalid', record} | {'duplicate', route} | {'unknown', ''}
 */
export const CREDIT = `
local rec = redis.call('GET', KEYS[1])
if not rec then
  local route = redis.call('GET', KEYS[2])
  if route then return {'duplicate', route} end
  return {'unknown', ''}
end
local parts = {}
for p in string.gmatch(rec, '[^\\n]+') do parts[#parts + 1] = p end
local r = tonumber(ARGV[1])
if parts[1] == 'b' and r ~= 0 and r ~= 1 then return {'invalid', rec} end
redis.call('DEL', KEYS[1])
redis.call('SET', KEYS[2], parts[4], 'EX', ARGV[3])
local h = ARGV[4] .. parts[2]
redis.call('HINCRBYFLOAT', h, parts[3] .. 'n', 1)
redis.call('HINCRBYFLOAT', h, parts[3] .. 'sum', ARGV[1])
redis.call('HINCRBYFLOAT', h, parts[3] .. 'sumsq', ARGV[2])
return {'credited', rec}
`;

/** Releases a lock if the token still holds it. KEYS: lock; ARGV: token. */
export const UNLOCK = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
`;
