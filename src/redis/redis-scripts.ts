/**
 * The Lua scripts that make the store's compound operations one atomic round trip each: a counter
 * that gets its expiry on creation only, an all-or-nothing check-and-charge over several keys (on
 * one cluster slot), and lease slots kept in a sorted set scored by their expiry on the server's
 * own clock, so instances with skewed clocks agree on when a crashed holder's slot frees up.
 */

/** KEYS[1]; ARGV: amount, ttlMs. Returns the new value as a string. */
export const INCREMENT = `
local value = redis.call('INCRBYFLOAT', KEYS[1], ARGV[1])
if redis.call('PTTL', KEYS[1]) < 0 then redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return value
`

/** KEYS[1..n]; ARGV: ttlMs, then amount and limit of each key. Returns {accepted, values}. */
export const CHARGE_WITHIN = `
local count = #KEYS
local current = {}
for index = 1, count do
  current[index] = tonumber(redis.call('GET', KEYS[index]) or '0')
end
for index = 1, count do
  if current[index] + tonumber(ARGV[index * 2]) > tonumber(ARGV[index * 2 + 1]) then
    local values = {}
    for each = 1, count do values[each] = tostring(current[each]) end
    return {0, values}
  end
end
local values = {}
for index = 1, count do
  values[index] = redis.call('INCRBYFLOAT', KEYS[index], ARGV[index * 2])
  if redis.call('PTTL', KEYS[index]) < 0 then redis.call('PEXPIRE', KEYS[index], ARGV[1]) end
end
return {1, values}
`

/** KEYS[1]; ARGV: holder, limit, ttlMs. Returns 1 when the slot was taken (or renewed), 0 when full. */
export const ACQUIRE_LEASE = `
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if not redis.call('ZSCORE', KEYS[1], ARGV[1]) and redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[2]) then
  return 0
end
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[3]), ARGV[1])
local last = redis.call('ZRANGE', KEYS[1], -1, -1, 'WITHSCORES')
redis.call('PEXPIREAT', KEYS[1], math.ceil(tonumber(last[2])))
return 1
`
