import { isToken } from '../http/field-syntax.js'

/**
 * A guest's linear memory as the host glue of any ABI sees it: bounds checks, reads and writes
 * of text and bytes, and a view that follows `memory.grow` (which detaches the old buffer, so a
 * view taken before a call into the guest can be empty after it, as in undici's llhttp glue).
 */
export class GuestMemory {
  #memory: WebAssembly.Memory | undefined
  #view: Buffer = Buffer.alloc(0)
  /** The last header name read at each address (modulo NAME_SLOTS). */
  readonly #names: Array<string | undefined> = new Array<string | undefined>(NAME_SLOTS).fill(undefined)
  /** Names by a hash of their bytes, for guests that pass the same name from a new address each time. */
  readonly #byHash: Array<string | undefined> = new Array<string | undefined>(NAME_SLOTS).fill(undefined)

  attach (memory: WebAssembly.Memory): void {
    this.#memory = memory
    this.#view = Buffer.from(memory.buffer)
  }

  /** The current view; rebuilt after the memory grew. */
  view (): Buffer {
    if (this.#view.length === 0 && this.#memory !== undefined) this.#view = Buffer.from(this.#memory.buffer)
    return this.#view
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
    const v = this.#view
    ptr >>>= 0
    len >>>= 0
    if (len > 32) return v.toString('latin1', ptr, ptr + len)
    // Short values: a loop is cheaper than a Buffer string helper's call overhead.
    let s = ''
    for (let i = ptr, end = ptr + len; i < end; i++) s += String.fromCharCode(v[i] as number)
    return s
  }

  /**
   * The bytes as a header field value (RFC 9110 section 5.5: HTAB, SP, VCHAR, obs-text), decoded
   * and checked in one pass; undefined if a byte is not allowed (the caller then reports which).
   */
  fieldValue (ptr: number, len: number): string | undefined {
    const v = this.#view
    ptr >>>= 0
    len >>>= 0
    const end = ptr + len
    for (let i = ptr; i < end; i++) {
      const c = v[i] as number
      if ((c < 0x20 && c !== 0x09) || c === 0x7f) return undefined
    }
    if (len > 32) return v.toString('latin1', ptr, end)
    let s = ''
    for (let i = ptr; i < end; i++) s += String.fromCharCode(v[i] as number)
    return s
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
    if (n > 32) v.write(s, ptr, n, 'latin1')
    else for (let i = 0; i < n; i++) v[ptr + i] = s.charCodeAt(i)
    return n
  }

  writeBytes (bytes: Uint8Array, ptr: number, cap: number): number {
    const n = bytes.length
    if (n <= cap >>> 0 && n !== 0) this.view().set(bytes, ptr >>> 0)
    return n
  }

  /** A store result record (docs/abi.md section 4): status, length, value, ttl. */
  writeRecord (ptr: number, status: number, len: number, value: number, ttlMs: number): void {
    const v = this.view()
    ptr >>>= 0
    v.writeInt32LE(status, ptr)
    v.writeInt32LE(len, ptr + 4)
    v.writeDoubleLE(value, ptr + 8)
    v.writeDoubleLE(ttlMs, ptr + 16)
  }

  /**
   * The lower-cased header name at [ptr, ptr + len), or undefined if it is not an HTTP token.
   * Names repeat on every request, usually from the same static bytes of the guest, so the
   * last name seen at each address is kept (checked against the bytes, which the guest may have
   * changed), and a name is decoded and checked once.
   */
  headerName (ptr: number, len: number): string | undefined {
    const v = this.#view
    ptr >>>= 0
    len >>>= 0
    const slot = ptr & (NAME_SLOTS - 1)
    const cached = this.#names[slot]
    if (cached !== undefined && cached.length === len && sameLower(cached, v, ptr)) return cached
    // A guest whose names live on its heap (Proxy-Wasm SDKs) passes each from a new address:
    // find it by its bytes before decoding it again.
    let hash = len
    for (let i = ptr, end = ptr + len; i < end; i++) hash = (Math.imul(hash, 31) + lower(v[i] as number)) | 0
    const hashSlot = hash & (NAME_SLOTS - 1)
    const known = this.#byHash[hashSlot]
    if (known !== undefined && known.length === len && sameLower(known, v, ptr)) {
      this.#names[slot] = known
      return known
    }
    let name = ''
    for (let i = ptr, end = ptr + len; i < end; i++) name += String.fromCharCode(lower(v[i] as number))
    if (!isToken(name)) return undefined
    // Flattened (a property key), so lookups with it do not rebuild a cons string each time.
    name = internal(name)
    this.#names[slot] = name
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
