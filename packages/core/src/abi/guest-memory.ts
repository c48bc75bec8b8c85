import { isToken } from '../http/field-syntax.js'
import { BytesMemo } from './bytes-memo.js'

/**
 * A guest's linear memory as the host glue of any ABI sees it: bounds checks, reads and writes
 * of text and bytes, and a view that follows `memory.grow` (which detaches the old buffer, so a
 * view taken before a call into the guest can be empty after it, as in undici's llhttp glue).
 */
export class GuestMemory {
  #memory: WebAssembly.Memory | undefined
  #view: Buffer = Buffer.alloc(0)
  /** The same bytes, for reading four at a time (names and keys are compared a word at a time). */
  #words: DataView = new DataView(new ArrayBuffer(0))
  /** The last header name read at each address (modulo NAME_SLOTS), with its bytes. */
  readonly #names = new BytesMemo(NAME_SLOTS, 32)
  /** Names by a hash of their bytes, for guests that pass the same name from a new address each time. */
  readonly #byHash: Array<string | undefined> = new Array<string | undefined>(NAME_SLOTS).fill(undefined)

  attach (memory: WebAssembly.Memory): void {
    this.#memory = memory
    this.#view = Buffer.from(memory.buffer)
    this.#words = new DataView(memory.buffer)
  }

  /** The current view; rebuilt after the memory grew. */
  view (): Buffer {
    if (this.#view.length === 0 && this.#memory !== undefined) {
      this.#view = Buffer.from(this.#memory.buffer)
      this.#words = new DataView(this.#memory.buffer)
    }
    return this.#view
  }

  /** The current memory as a DataView (for word reads); rebuilt after the memory grew. */
  words (): DataView {
    this.view()
    return this.#words
  }

  byteLength (): number {
    return this.view().length
  }

  /** Whether [ptr, ptr + len) lies inside memory (both read as unsigned). */
  inBounds (ptr: number, len: number): boolean {
    return (ptr >>> 0) + (len >>> 0) <= this.view().length
  }

  /** Bytes as Latin-1 text, one character per byte (header values, paths). Checked by the caller. */
  latin1 (ptr: number, len: number): string {
    return latin1Text(this.#view, ptr >>> 0, len >>> 0)
  }

  /**
   * The bytes as a header field value (RFC 9110 section 5.5: HTAB, SP, VCHAR, obs-text), decoded
   * and checked; undefined if a byte is not allowed (the caller then reports which).
   */
  fieldValue (ptr: number, len: number): string | undefined {
    const v = this.#view
    ptr >>>= 0
    len >>>= 0
    for (let i = ptr, end = ptr + len; i < end; i++) {
      const c = v[i] as number
      if ((c < 0x20 && c !== 0x09) || c === 0x7f) return undefined
    }
    return latin1Text(v, ptr, len)
  }

  utf8 (ptr: number, len: number): string {
    return this.#view.toString('utf8', ptr >>> 0, (ptr >>> 0) + (len >>> 0))
  }

  /** A copy the host keeps (the guest may reuse its bytes as soon as the import returns). */
  copy (ptr: number, len: number): Buffer {
    return Buffer.from(this.#view.subarray(ptr >>> 0, (ptr >>> 0) + (len >>> 0)))
  }

  /** Writes `s` as Latin-1 at `ptr` if it fits in `cap` bytes; returns its full length either way. */
  writeLatin1 (s: string, ptr: number, cap: number): number {
    const n = s.length
    if (n > cap >>> 0) return n
    const v = this.view()
    ptr >>>= 0
    // Up to about 24 characters a loop is the cheapest; above, Buffer's encoder (a fixed 65-85 ns
    // here), called directly: `Buffer#write` adds 20-35 ns of argument and encoding handling.
    if (n <= 24) for (let i = 0; i < n; i++) v[ptr + i] = s.charCodeAt(i)
    else if (latin1Write !== undefined) latin1Write.call(v, s, ptr, n)
    else v.write(s, ptr, n, 'latin1')
    return n
  }

  writeBytes (bytes: Uint8Array, ptr: number, cap: number): number {
    const n = bytes.length
    if (n <= cap >>> 0 && n !== 0) this.view().set(bytes, ptr >>> 0)
    return n
  }

  /** A store result record (docs/abi.md section 4): status, length, value, ttl. */
  writeRecord (ptr: number, status: number, len: number, value: number, ttlMs: number): void {
    const w = this.words()
    ptr >>>= 0
    w.setInt32(ptr, status, true)
    w.setInt32(ptr + 4, len, true)
    w.setFloat64(ptr + 8, value, true)
    w.setFloat64(ptr + 16, ttlMs, true)
  }

  /**
   * The lower-cased header name at [ptr, ptr + len), or undefined if it is not an HTTP token.
   * Names repeat on every request, usually from the same static bytes of the guest, so the
   * last name seen at each address is kept with its bytes (checked against them, four at a
   * time, since the guest may have changed them), and a name is decoded and checked once.
   */
  headerName (ptr: number, len: number): string | undefined {
    const v = this.#view
    const words = this.#words
    ptr >>>= 0
    len >>>= 0
    const names = this.#names
    const slot = names.slot(ptr)
    const cached = names.get(slot, words, ptr, len)
    if (cached !== undefined) return cached
    // A guest whose names live on its heap (Proxy-Wasm SDKs) passes each from a new address:
    // find it by its bytes before decoding it again.
    let hash = len
    for (let i = ptr, end = ptr + len; i < end; i++) hash = (Math.imul(hash, 31) + lower(v[i] as number)) | 0
    const hashSlot = hash & (NAME_SLOTS - 1)
    const known = this.#byHash[hashSlot]
    if (known !== undefined && known.length === len && sameLower(known, v, ptr)) {
      names.set(slot, words, ptr, len, known)
      return known
    }
    let name = ''
    for (let i = ptr, end = ptr + len; i < end; i++) name += String.fromCharCode(lower(v[i] as number))
    if (!isToken(name)) return undefined
    // Flattened (a property key), so lookups with it do not rebuild a cons string each time.
    name = internal(name)
    names.set(slot, words, ptr, len, name)
    this.#byHash[hashSlot] = name
    return name
  }
}

const NAME_SLOTS = 256

function lower (c: number): number {
  return c >= 65 && c <= 90 ? c + 32 : c
}

function sameLower (name: string, v: Buffer, ptr: number): boolean {
  for (let i = 0; i < name.length; i++) if (name.charCodeAt(i) !== lower(v[ptr + i] as number)) return false
  return true
}

function internal (s: string): string {
  return Object.keys({ [s]: 0 })[0] as string
}

const fromCharCode = String.fromCharCode
/** Buffer's own Latin-1 decoder, without `toString`'s argument handling (undocumented; checked here). */
const latin1Slice = (Buffer.prototype as { latin1Slice?: (start: number, end: number) => string }).latin1Slice
/** Its Latin-1 encoder (what `Buffer#write(s, offset, length, 'latin1')` calls; likewise checked). */
const latin1Write = (Buffer.prototype as { latin1Write?: (s: string, offset: number, length: number) => number }).latin1Write

/**
 * `len` bytes at `p` as Latin-1 text. Header names and values, paths and numbers are mostly
 * short, and for those one call of `String.fromCharCode` with an argument per byte makes the
 * string at once (about 20 ns for 11 bytes here), where a Buffer string helper costs 70-90 ns
 * whatever the length, and a loop of concatenations makes a string per byte. Longer calls (17 to
 * 32 arguments) measured no faster than the helper inside this switch, nor did two concatenated
 * calls once the result is flattened (as a header value is), so the helper takes over at 17.
 */
export function latin1Text (v: Buffer, p: number, len: number): string {
  switch (len) {
    case 0: return ''
    case 1: return fromCharCode(b(v, p))
    case 2: return fromCharCode(b(v, p), b(v, p + 1))
    case 3: return fromCharCode(b(v, p), b(v, p + 1), b(v, p + 2))
    case 4: return fromCharCode(b(v, p), b(v, p + 1), b(v, p + 2), b(v, p + 3))
    case 5: return fromCharCode(b(v, p), b(v, p + 1), b(v, p + 2), b(v, p + 3), b(v, p + 4))
    case 6: return fromCharCode(b(v, p), b(v, p + 1), b(v, p + 2), b(v, p + 3), b(v, p + 4), b(v, p + 5))
    case 7: return fromCharCode(b(v, p), b(v, p + 1), b(v, p + 2), b(v, p + 3), b(v, p + 4), b(v, p + 5), b(v, p + 6))
    case 8: return fromCharCode(b(v, p), b(v, p + 1), b(v, p + 2), b(v, p + 3), b(v, p + 4), b(v, p + 5), b(v, p + 6), b(v, p + 7))
    case 9: return fromCharCode(b(v, p), b(v, p + 1), b(v, p + 2), b(v, p + 3), b(v, p + 4), b(v, p + 5), b(v, p + 6), b(v, p + 7), b(v, p + 8))
    case 10: return fromCharCode(b(v, p), b(v, p + 1), b(v, p + 2), b(v, p + 3), b(v, p + 4), b(v, p + 5), b(v, p + 6), b(v, p + 7), b(v, p + 8), b(v, p + 9))
    case 11: return fromCharCode(b(v, p), b(v, p + 1), b(v, p + 2), b(v, p + 3), b(v, p + 4), b(v, p + 5), b(v, p + 6), b(v, p + 7), b(v, p + 8), b(v, p + 9), b(v, p + 10))
    case 12: return fromCharCode(b(v, p), b(v, p + 1), b(v, p + 2), b(v, p + 3), b(v, p + 4), b(v, p + 5), b(v, p + 6), b(v, p + 7), b(v, p + 8), b(v, p + 9), b(v, p + 10), b(v, p + 11))
    case 13: return fromCharCode(b(v, p), b(v, p + 1), b(v, p + 2), b(v, p + 3), b(v, p + 4), b(v, p + 5), b(v, p + 6), b(v, p + 7), b(v, p + 8), b(v, p + 9), b(v, p + 10), b(v, p + 11), b(v, p + 12))
    case 14: return fromCharCode(b(v, p), b(v, p + 1), b(v, p + 2), b(v, p + 3), b(v, p + 4), b(v, p + 5), b(v, p + 6), b(v, p + 7), b(v, p + 8), b(v, p + 9), b(v, p + 10), b(v, p + 11), b(v, p + 12), b(v, p + 13))
    case 15: return fromCharCode(b(v, p), b(v, p + 1), b(v, p + 2), b(v, p + 3), b(v, p + 4), b(v, p + 5), b(v, p + 6), b(v, p + 7), b(v, p + 8), b(v, p + 9), b(v, p + 10), b(v, p + 11), b(v, p + 12), b(v, p + 13), b(v, p + 14))
    case 16: return fromCharCode(b(v, p), b(v, p + 1), b(v, p + 2), b(v, p + 3), b(v, p + 4), b(v, p + 5), b(v, p + 6), b(v, p + 7), b(v, p + 8), b(v, p + 9), b(v, p + 10), b(v, p + 11), b(v, p + 12), b(v, p + 13), b(v, p + 14), b(v, p + 15))
    default: return latin1Slice !== undefined ? latin1Slice.call(v, p, p + len) : v.toString('latin1', p, p + len)
  }
}

function b (v: Buffer, i: number): number {
  return v[i] as number
}
