import { BytesMemo } from './bytes-memo.js'
import type { GuestMemory } from './guest-memory.js'

/** The longest key a guest may pass, in bytes (docs/abi.md section 4). */
export const MAX_KEY_BYTES = 512
/** The largest value a guest may store, in bytes. */
export const MAX_VALUE_BYTES = 64 * 1024

/** Recent keys kept, by a hash of their bytes: a power of two. */
const KEY_SLOTS = 16
/** Keys up to this long are kept (a longer one is decoded on every call). */
const KEPT_KEY_BYTES = 128

/**
 * One filter's namespace in the store every filter shares: each key a guest passes is prefixed
 * with `<filter>:`, so two filters never see each other's keys. Any ABI's glue that reaches the
 * store takes its keys from here, after checking the length against `MAX_KEY_BYTES` and the
 * pointer against memory.
 *
 * Guests use the same few keys on every request (a counter per client, a cached token), and a
 * key built afresh each time is a new string the store hashes again. So the last keys seen are
 * kept by a hash of their bytes, with those bytes (compared four at a time), and a repeated key
 * costs no allocation: the same string, its hash already computed. Only ASCII keys are kept;
 * other keys are decoded as UTF-8 on each call.
 */
export class FilterStore {
  readonly prefix: string
  readonly #keys = new BytesMemo(KEY_SLOTS, KEPT_KEY_BYTES)

  constructor (filter: string) {
    this.prefix = `${filter}:`
  }

  /** The store key for the guest's key at [ptr, ptr + len), which the caller checked is in memory. */
  key (mem: GuestMemory, ptr: number, len: number): string {
    const words = mem.words()
    ptr >>>= 0
    len >>>= 0
    // A hash of the bytes, four at a time, and whether they are all ASCII.
    let hash = len
    let high = 0
    const full = len >>> 2
    for (let k = 0; k < full; k++) {
      const w = words.getInt32(ptr + 4 * k, true)
      hash = (Math.imul(hash, 31) + w) | 0
      high |= w
    }
    for (let i = ptr + 4 * full, end = ptr + len; i < end; i++) {
      const b = words.getUint8(i)
      hash = (Math.imul(hash, 31) + b) | 0
      high |= b
    }
    if ((high & 0x80808080) !== 0) return `${this.prefix}${mem.utf8(ptr, len)}`
    const keys = this.#keys
    const slot = keys.slot(hash ^ (hash >>> 16))
    const cached = keys.get(slot, words, ptr, len)
    if (cached !== undefined) return cached
    const key = flat(`${this.prefix}${mem.latin1(ptr, len)}`)
    keys.set(slot, words, ptr, len, key)
    return key
  }
}

/** One flat, internalised string: lookups with it hash it once, not a rebuilt concatenation each time. */
function flat (s: string): string {
  return Object.keys({ [s]: 0 })[0] as string
}
