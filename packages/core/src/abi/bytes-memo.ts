/**
 * Strings the host made from guest bytes, each kept with the bytes it was made from, so that
 * the next time a guest passes the same bytes the same string is used again: no decoding, no
 * new string, and (for a property key) no new hash. Guests pass the same header names and
 * store keys on every request, usually from the same address.
 *
 * Each slot holds one string, the length of its bytes and the bytes themselves as 32-bit words
 * (read four at a time through a DataView, which V8 compiles to plain loads); the caller picks
 * the slot (by address, or by a hash of the bytes) and checks it with `same` before trusting
 * it, since the guest may have changed the bytes since. Byte strings longer than `maxBytes`
 * are never kept.
 */
export class BytesMemo {
  readonly maxBytes: number
  readonly #slots: number
  readonly #strings: Array<string | undefined>
  /** Per slot: the length, the full words, then the last four bytes (or the 1-3 bytes of a short one). */
  readonly #raw: Int32Array
  readonly #stride: number
  readonly #tail: number

  /** `slots` must be a power of two; `maxBytes` a multiple of 4. */
  constructor (slots: number, maxBytes: number) {
    this.maxBytes = maxBytes
    this.#slots = slots
    this.#strings = new Array<string | undefined>(slots).fill(undefined)
    this.#tail = 1 + maxBytes / 4
    this.#stride = this.#tail + 1
    this.#raw = new Int32Array(slots * this.#stride)
  }

  /** The slot for a number (an address or a hash). */
  slot (n: number): number {
    return n & (this.#slots - 1)
  }

  /** The slot's string if it was made from exactly the bytes at [ptr, ptr + len), else undefined. */
  get (slot: number, words: DataView, ptr: number, len: number): string | undefined {
    const s = this.#strings[slot]
    return s !== undefined && this.#same(slot, words, ptr, len) ? s : undefined
  }

  /** Keeps `s` in the slot with the bytes at [ptr, ptr + len) (at most `maxBytes`; longer ones are not kept). */
  set (slot: number, words: DataView, ptr: number, len: number, s: string): void {
    if (len > this.maxBytes) return
    const raw = this.#raw
    const base = slot * this.#stride
    raw[base] = len
    for (let k = 0, full = len >>> 2; k < full; k++) raw[base + 1 + k] = words.getInt32(ptr + 4 * k, true)
    raw[base + this.#tail] = tailWord(words, ptr, len)
    this.#strings[slot] = s
  }

  #same (slot: number, words: DataView, ptr: number, len: number): boolean {
    const raw = this.#raw
    const base = slot * this.#stride
    if (raw[base] !== len) return false
    for (let k = 0, full = len >>> 2; k < full; k++) if (words.getInt32(ptr + 4 * k, true) !== raw[base + 1 + k]) return false
    return (len & 3) === 0 || tailWord(words, ptr, len) === raw[base + this.#tail]
  }
}

/** The last four bytes of [ptr, ptr + len) as a word; for 1-3 bytes, those bytes. */
function tailWord (words: DataView, ptr: number, len: number): number {
  if (len >= 4) return words.getInt32(ptr + len - 4, true)
  let w = 0
  for (let i = 0; i < len; i++) w = (w << 8) | words.getUint8(ptr + i)
  return w
}
