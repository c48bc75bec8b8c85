import { createHash } from 'node:crypto'

/**
 * Proxy-Wasm `proxy_set_shared_data` as one atomic step on the server: compare the CAS, write,
 * and publish the change, so every process's mirror hears of it (docs/proxy-wasm.md, "Shared data").
 *
 * One hash holds every key of every VM: field = the slot (VM id and key, see `vmSlotPrefix`),
 * value = the record `<n>:<bytes>`, where `n` is the table's write counter when the key was
 * written (the guest's CAS is `n` folded into 1..2^32-1, as `casOf` does). `n` orders records,
 * so a process that hears of two writes out of order keeps the newer.
 *
 * KEYS[1] the hash; KEYS[2] the counter. ARGV[1] the slot; ARGV[2] the value; ARGV[3] the CAS the
 * guest read (0: set whatever is there); ARGV[4] the channel.
 * Returns { 1, n } when written; { 0, record } on a CAS mismatch, with the current record, so
 * the caller's mirror is fresh for the guest's retry. A missing key is written whatever the CAS,
 * as in Envoy.
 */
export const SET_SCRIPT = `
local cur = redis.call('HGET', KEYS[1], ARGV[1])
if cur and ARGV[3] ~= '0' then
  local n = tonumber(string.sub(cur, 1, string.find(cur, ':', 1, true) - 1))
  if ((n - 1) % 4294967295) + 1 ~= tonumber(ARGV[3]) then return { 0, cur } end
end
local n = redis.call('INCR', KEYS[2])
local record = string.format('%d', n) .. ':' .. ARGV[2]
redis.call('HSET', KEYS[1], ARGV[1], record)
redis.call('PUBLISH', ARGV[4], string.len(ARGV[1]) .. ':' .. ARGV[1] .. record)
return { 1, n }
`

export const SET_SCRIPT_SHA = createHash('sha1').update(SET_SCRIPT).digest('hex')

/** A record `<n>:<bytes>` read back: its counter and its value. */
export interface SharedRecord {
  n: number
  value: Buffer
}

/** Parses `<n>:<bytes>`; undefined when it is not one (another program wrote the hash). */
export function parseRecord (record: Buffer): SharedRecord | undefined {
  const colon = record.indexOf(58)
  if (colon < 1 || colon > 16) return undefined
  const n = Number(record.toString('latin1', 0, colon))
  return Number.isSafeInteger(n) && n > 0 ? { n, value: record.subarray(colon + 1) } : undefined
}

/** Parses a change message `<slot length>:<slot><record>`. */
export function parseChange (message: Buffer): { slot: string, record: SharedRecord } | undefined {
  const colon = message.indexOf(58)
  if (colon < 1 || colon > 10) return undefined
  const len = Number(message.toString('latin1', 0, colon))
  const start = colon + 1
  if (!Number.isSafeInteger(len) || start + len > message.length) return undefined
  const record = parseRecord(message.subarray(start + len))
  return record === undefined ? undefined : { slot: message.toString('utf8', start, start + len), record }
}
