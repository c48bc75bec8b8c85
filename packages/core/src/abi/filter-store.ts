import type { GuestMemory } from './guest-memory.js'

/** The longest key a guest may pass, in bytes (docs/abi.md section 4). */
export const MAX_KEY_BYTES = 512
/** The largest value a guest may store, in bytes. */
export const MAX_VALUE_BYTES = 64 * 1024

/** Recent keys kept, by a hash of their bytes: a power of two. */
const KEY_SLOTS = 16

/**
 * One filter's namespace in the store every filter shares: each key a guest passes is prefixed
 * with `<filter>:`, so two filters never see each other's keys. Any ABI's glue that reaches the
 * store takes its keys from here, after checking the length against `MAX_KEY_BYTES` and the
 * pointer against memory.
 *
 * Guests use the same few keys on every request (a counter per client, a cached token), and a
 * key built afresh each time is a new string the store hashes again. So the last keys seen are
 * kept by a hash of their bytes and checked against them, and a repeated key costs no
 * allocation: the same string, its hash already computed. Only ASCII keys are kept, compared
 * with the key's own characters; other keys are decoded as UTF-8 on each call.
 */
export class FilterStore {
  readonly prefix: string
  readonly #keys: string[] = new Array<string>(KEY_SLOTS).fill('')

  constructor (filter: string) {
    this.prefix = `${filter}:`
  }

  /** The store key for the guest's key at [ptr, ptr + len), which the caller checked is in memory. */
  key (mem: GuestMemory, ptr: number, len: number): string {
    const v = mem.view()
    ptr >>>= 0
    len >>>= 0
    let hash = len
    let ascii = true
    for (let i = ptr, end = ptr + len; i < end; i++) {
      const b = v[i] as number
      hash = (Math.imul(hash, 31) + b) | 0
      if (b >= 0x80) ascii = false
    }
    if (!ascii) return `${this.prefix}${mem.utf8(ptr, len)}`
    const slot = hash & (KEY_SLOTS - 1)
    const cached = this.#keys[slot] as string
    const at = this.prefix.length
    if (cached.length === at + len && sameBytes(cached, at, v, ptr, len)) return cached
    const key = flat(`${this.prefix}${v.toString('latin1', ptr, ptr + len)}`)
    this.#keys[slot] = key
    return key
  }
}

function sameBytes (s: string, at: number, v: Uint8Array, ptr: number, len: number): boolean {
  for (let i = 0; i < len; i++) if (s.charCodeAt(at + i) !== v[ptr + i]) return false
  return true
}

/** One flat, internalised string: lookups with it hash it once, not a rebuilt concatenation each time. */
function flat (s: string): string {
  return Object.keys({ [s]: 0 })[0] as string
}
