import { createHash } from 'node:crypto'

/**
 * `incr` in one atomic step on the server: add, give the TTL only to a counter this call
 * created (a fixed window: later increments never extend it), and report the TTL left.
 *
 * Creation is detected with EXISTS before INCRBY rather than by comparing the result with the
 * delta: a counter brought back to 0 (incr 1, incr -1) and incremented again still has its
 * window. A key that already exists keeps whatever TTL it has, none included, as MemoryStore does.
 *
 * KEYS[1] the key; ARGV[1] the delta; ARGV[2] the TTL in ms (0: none).
 * Returns { value, PTTL } where PTTL is -1 for a key without expiry.
 */
export const INCR_SCRIPT = `
local existed = redis.call('EXISTS', KEYS[1])
local value = redis.call('INCRBY', KEYS[1], ARGV[1])
local ttl = tonumber(ARGV[2])
if existed == 0 and ttl > 0 then
  redis.call('PEXPIRE', KEYS[1], ttl)
end
return { value, redis.call('PTTL', KEYS[1]) }
`

export const INCR_SCRIPT_SHA = createHash('sha1').update(INCR_SCRIPT).digest('hex')
