// ByteBuffer: bytes a filter builds or reads without allocating per request. A filter keeps one
// (a field or a module-level constant), clears it, appends to it (text, a header the host writes
// straight into it, a number, a random UUID) and hands it to the host (a header value, a kv key)
// or to sha256Into. It grows only when a value is bigger than it has ever been, and then stays
// grown, so a filter on its hot path allocates nothing once it has seen its largest request.
import { randomFill } from "./random";

const HEX = "0123456789abcdef";
// Room for the digits of any i64, with its sign.
const MAX_DECIMAL: i32 = 20;

export class ByteBuffer {
  // GC-managed storage, so a buffer made per request is collected like any object (a filter
  // that keeps one avoids even that).
  private buf: StaticArray<u8>;
  private ptr: usize;
  private cap: i32;
  private len: i32 = 0;

  constructor(capacity: i32 = 64) {
    const cap = capacity > 16 ? capacity : 16;
    const buf = new StaticArray<u8>(cap);
    this.buf = buf;
    this.ptr = changetype<usize>(buf);
    this.cap = cap;
  }

  /** How many bytes it holds. */
  get length(): i32 {
    return this.len;
  }

  /** The address of its bytes: valid until it next grows. */
  get dataStart(): usize {
    return this.ptr;
  }

  /** Empties it (keeps its capacity); returns it, to chain appends. */
  clear(): ByteBuffer {
    this.len = 0;
    return this;
  }

  /** Drops all but the first `n` bytes. */
  truncate(n: i32): ByteBuffer {
    if (n >= 0 && n < this.len) this.len = n;
    return this;
  }

  /** The byte at `i` (0 <= i < length). */
  at(i: i32): u8 {
    if (<u32>i >= <u32>this.len) throw new RangeError("ByteBuffer.at: index out of range");
    return load<u8>(this.ptr + <usize>i);
  }

  /** Room for `n` more bytes; returns where they go. The caller then calls `grew(n)`. */
  reserve(n: i32): usize {
    const need = this.len + n;
    if (need > this.cap) {
      let cap = this.cap;
      while (cap < need) cap <<= 1;
      const grown = new StaticArray<u8>(cap);
      memory.copy(changetype<usize>(grown), this.ptr, <usize>this.len);
      this.buf = grown;
      this.ptr = changetype<usize>(grown);
      this.cap = cap;
    }
    return this.ptr + <usize>this.len;
  }

  /** Free room after the bytes it holds (for a host read into it). */
  get spare(): i32 {
    return this.cap - this.len;
  }

  /** Counts `n` bytes written at reserve()'s address. */
  grew(n: i32): void {
    this.len += n;
  }

  /** Appends `n` bytes from `src`. */
  appendRaw(src: usize, n: i32): ByteBuffer {
    memory.copy(this.reserve(n), src, <usize>n);
    this.len += n;
    return this;
  }

  /** Appends the bytes of another buffer. */
  append(other: ByteBuffer): ByteBuffer {
    return this.appendRaw(other.ptr, other.len);
  }

  /**
   * Appends `s` one byte per character (header values, paths, ASCII keys). A character above
   * U+00FF becomes NUL, which the host refuses in a header: a value is never changed silently.
   */
  appendLatin1(s: string): ByteBuffer {
    const n = s.length;
    const dst = this.reserve(n);
    const src = changetype<usize>(s);
    for (let i = 0; i < n; i++) {
      const c = <u32>load<u16>(src + (<usize>i << 1));
      store<u8>(dst + <usize>i, <u8>(c <= 0xff ? c : 0));
    }
    this.len += n;
    return this;
  }

  /** Appends `s` as UTF-8 (lone surrogates as U+FFFD): bodies, log lines, non-ASCII kv keys. */
  appendUtf8(s: string): ByteBuffer {
    const dst = this.reserve(String.UTF8.byteLength(s));
    this.len += <i32>String.UTF8.encodeUnsafe(changetype<usize>(s), s.length, dst, false, String.UTF8.ErrorMode.REPLACE);
    return this;
  }

  /** Appends `value` in decimal ("-12", "0", "1000000000"). */
  appendDecimal(value: i64): ByteBuffer {
    const dst = this.reserve(MAX_DECIMAL);
    let n: i32 = 0;
    // Digits from the lowest, on the negative side so i64.MIN_VALUE needs no special case.
    let v = value < 0 ? value : -value;
    do {
      store<u8>(dst + <usize>n, <u8>(0x30 - <i32>(v % 10)));
      v /= 10;
      n++;
    } while (v != 0);
    if (value < 0) store<u8>(dst + <usize>(n++), 0x2d);
    for (let i = 0, j = n - 1; i < j; i++, j--) {
      const t = load<u8>(dst + <usize>i);
      store<u8>(dst + <usize>i, load<u8>(dst + <usize>j));
      store<u8>(dst + <usize>j, t);
    }
    this.len += n;
    return this;
  }

  /** Appends `n` bytes at `src` as lower-case hex (two characters per byte). */
  appendHexRaw(src: usize, n: i32): ByteBuffer {
    const dst = this.reserve(n << 1);
    const hex = changetype<usize>(HEX);
    for (let i = 0; i < n; i++) {
      const b = <usize>load<u8>(src + <usize>i);
      store<u8>(dst + (<usize>i << 1), load<u8>(hex + ((b >> 4) << 1)));
      store<u8>(dst + (<usize>i << 1) + 1, load<u8>(hex + ((b & 0x0f) << 1)));
    }
    this.len += n << 1;
    return this;
  }

  /** Appends the bytes of `bytes` as lower-case hex. */
  appendHex(bytes: Uint8Array): ByteBuffer {
    return this.appendHexRaw(bytes.dataStart, bytes.length);
  }

  /**
   * Appends a random UUID (version 4, RFC 9562 section 5.4) in its 36-character lower-case form:
   * one host call for the 16 random bytes, nothing allocated.
   */
  appendUuid(): ByteBuffer {
    const dst = this.reserve(52); // 36 characters, with the 16 random bytes staged at the end
    const raw = dst + 36;
    randomFill(raw, 16);
    store<u8>(raw + 6, (load<u8>(raw + 6) & 0x0f) | 0x40);
    store<u8>(raw + 8, (load<u8>(raw + 8) & 0x3f) | 0x80);
    const hex = changetype<usize>(HEX);
    let at: usize = 0;
    for (let i: usize = 0; i < 16; i++) {
      if (i == 4 || i == 6 || i == 8 || i == 10) store<u8>(dst + at++, 0x2d); // "-"
      const b = <usize>load<u8>(raw + i);
      store<u8>(dst + at, load<u8>(hex + ((b >> 4) << 1)));
      store<u8>(dst + at + 1, load<u8>(hex + ((b & 0x0f) << 1)));
      at += 2;
    }
    this.len += 36;
    return this;
  }

  /** True if it holds exactly `s`, read one byte per character. */
  equals(s: string): bool {
    return this.len == s.length && this.matchesAt(0, s);
  }

  /** True if it starts with `s`, read one byte per character. */
  startsWith(s: string): bool {
    return s.length <= this.len && this.matchesAt(0, s);
  }

  private matchesAt(offset: i32, s: string): bool {
    const src = changetype<usize>(s);
    const at = this.ptr + <usize>offset;
    for (let i = 0; i < s.length; i++) {
      if (<u32>load<u16>(src + (<usize>i << 1)) != <u32>load<u8>(at + <usize>i)) return false;
    }
    return true;
  }

  /** Its bytes as a string, one character per byte. Allocates the string. */
  toString(): string {
    const n = this.len;
    if (n == 0) return "";
    const out = changetype<string>(__new(<usize>n << 1, idof<string>()));
    const dst = changetype<usize>(out);
    for (let i = 0; i < n; i++) store<u16>(dst + (<usize>i << 1), <u16>load<u8>(this.ptr + <usize>i));
    return out;
  }

  /** Its bytes decoded as UTF-8 (invalid sequences as U+FFFD). Allocates the string. */
  toUtf8String(): string {
    return String.UTF8.decodeUnsafe(this.ptr, <usize>this.len);
  }
}
