/**
 * The Lua scripts that make the store's compound operations one atomic round trip each: a counter
 * that gets its expiry on creation only, an all-or-nothing check-and-charge over several keys (on
 * one cluster slot), and weighted leases kept in a hash (holder -> expiry and weight) whose
 * expiry is read on the server's own clock, so instances with skewed clocks agree on when a
 * crashed holder's units free up. A lease taken anew reports the entry it wrote, so a caller that
 * gave up waiting for it (its round trip outlived the timeout) can give exactly that lease back.
 */

/** KEYS[1]; ARGV: amount, ttlMs. Returns the new value as a string. */
export const INCREMENT = `
local value = redis.call('INCRBYFLOAT', KEYS[1], ARGV[1])
if redis.call('PTTL', KEYS[1]) < 0 then redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return value
`

/**
 * KEYS[1..n]; ARGV: ttlMs, then amount and limit of each key. Returns {accepted, values}. A
 * refusal returns the counters as stored, not through `tostring`, which prints 14 significant
 * digits: a privacy budget's spent total (up to 1e15 units) came back rounded, and the refusal
 * overstated the budget left.
 */
export const CHARGE_WITHIN = `
local count = #KEYS
local stored = {}
local current = {}
for index = 1, count do
  stored[index] = redis.call('GET', KEYS[index]) or '0'
  current[index] = tonumber(stored[index])
end
for index = 1, count do
  if current[index] + tonumber(ARGV[index * 2]) > tonumber(ARGV[index * 2 + 1]) then
    return {0, stored}
  end
end
local values = {}
for index = 1, count do
  values[index] = redis.call('INCRBYFLOAT', KEYS[index], ARGV[index * 2])
  if redis.call('PTTL', KEYS[index]) < 0 then redis.call('PEXPIRE', KEYS[index], ARGV[1]) end
end
return {1, values}
`

/**
 * KEYS[1]; ARGV: holder, limit, ttlMs, weight. Each field of the hash is a holder, its value
 * `expiry:weight`. Expired leases are dropped on the way; returns {1, entry} when the units were
 * taken anew, {2, entry} when the holder's live lease was renewed, {0} when the other live leases
 * leave too few. Linear in the number of holders, which the limit bounds (concurrency slots, or
 * one identity's key bundles).
 */
export const ACQUIRE_LEASE = `
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
local holder = ARGV[1]
local limit = tonumber(ARGV[2])
local expiry = now + tonumber(ARGV[3])
local weight = tonumber(ARGV[4])
local entries = redis.call('HGETALL', KEYS[1])
local used = 0
local last = 0
local renewed = 0
for index = 1, #entries, 2 do
  local value = entries[index + 1]
  local separator = string.find(value, ':', 1, true)
  local expires = tonumber(string.sub(value, 1, separator - 1))
  if expires <= now then
    redis.call('HDEL', KEYS[1], entries[index])
  elseif entries[index] ~= holder then
    used = used + tonumber(string.sub(value, separator + 1))
    if expires > last then last = expires end
  else
    renewed = 1
  end
end
if used + weight > limit then return {0} end
local entry = string.format('%.0f:%.0f', expiry, weight)
redis.call('HSET', KEYS[1], holder, entry)
if expiry > last then last = expiry end
redis.call('PEXPIREAT', KEYS[1], string.format('%.0f', last))
return {1 + renewed, entry}
`

/**
 * KEYS[1]; ARGV: holder, entry. Gives back a lease only while it is still the one a late answer
 * took (its `expiry:weight` unchanged): a lease the holder renewed since is its own again.
 */
export const RETURN_LEASE = `
if redis.call('HGET', KEYS[1], ARGV[1]) == ARGV[2] then redis.call('HDEL', KEYS[1], ARGV[1]) end
return 1
`
