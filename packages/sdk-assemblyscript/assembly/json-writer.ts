// Writes JSON as UTF-8 bytes straight into a growable buffer, so a patch or a response goes to
// the host's `output` import without an intermediate string. Commas are placed automatically:
// call key() before each member value in an object, and the value methods in order.

const INITIAL_CAPACITY: i32 = 256;

export class JsonWriter {
  private buf: ArrayBuffer = new ArrayBuffer(INITIAL_CAPACITY);
  private used: i32 = 0;
  // True right after `{`/`[` or a key: the next value or key needs no comma before it.
  private fresh: bool = true;

  /** Address of the written bytes (valid until the next write). */
  get ptr(): usize {
    return changetype<usize>(this.buf);
  }

  /** Number of bytes written. */
  get length(): i32 {
    return this.used;
  }

  reset(): void {
    this.used = 0;
    this.fresh = true;
  }

  /** The written JSON as a string. */
  toString(): string {
    return String.UTF8.decodeUnsafe(this.ptr, this.used);
  }

  beginObject(): JsonWriter {
    this.separate();
    this.byte(0x7b);
    this.fresh = true;
    return this;
  }

  endObject(): JsonWriter {
    this.byte(0x7d);
    this.fresh = false;
    return this;
  }

  beginArray(): JsonWriter {
    this.separate();
    this.byte(0x5b);
    this.fresh = true;
    return this;
  }

  endArray(): JsonWriter {
    this.byte(0x5d);
    this.fresh = false;
    return this;
  }

  /** Writes an object member's name; the next call writes its value. */
  key(name: string): JsonWriter {
    this.separate();
    this.quoted(name);
    this.byte(0x3a);
    this.fresh = true;
    return this;
  }

  string(value: string): JsonWriter {
    this.separate();
    this.quoted(value);
    return this;
  }

  /** Integers are written without a fraction (`3`, not `3.0`); NaN and infinities become null. */
  number(value: f64): JsonWriter {
    this.separate();
    if (!isFinite(value)) {
      this.ascii("null");
    } else if (value == Math.trunc(value) && Math.abs(value) < 9007199254740992) {
      this.ascii((<i64>value).toString());
    } else {
      this.ascii(value.toString());
    }
    return this;
  }

  bool(value: bool): JsonWriter {
    this.separate();
    this.ascii(value ? "true" : "false");
    return this;
  }

  nullValue(): JsonWriter {
    this.separate();
    this.ascii("null");
    return this;
  }

  /** Writes an array of strings. */
  strings(values: string[]): JsonWriter {
    this.beginArray();
    for (let i = 0; i < values.length; i++) this.string(unchecked(values[i]));
    return this.endArray();
  }

  /** Appends already-encoded JSON text as one value. */
  raw(json: string): JsonWriter {
    this.separate();
    this.utf8(json);
    return this;
  }

  private separate(): void {
    if (this.fresh) this.fresh = false;
    else this.byte(0x2c);
  }

  private reserve(extra: i32): void {
    const need = this.used + extra;
    const cap = this.buf.byteLength;
    if (need <= cap) return;
    let next = cap << 1;
    if (next < need) next = need;
    const grown = new ArrayBuffer(next);
    memory.copy(changetype<usize>(grown), changetype<usize>(this.buf), this.used);
    this.buf = grown;
  }

  @inline
  private byte(b: u32): void {
    this.reserve(1);
    store<u8>(changetype<usize>(this.buf) + this.used, <u8>b);
    this.used++;
  }

  // Only for text known to be ASCII (numbers, literals).
  private ascii(s: string): void {
    const n = s.length;
    this.reserve(n);
    const out = changetype<usize>(this.buf) + this.used;
    const src = changetype<usize>(s);
    for (let i = 0; i < n; i++) store<u8>(out + i, <u8>load<u16>(src + (<usize>i << 1)));
    this.used += n;
  }

  private utf8(s: string): void {
    const n = String.UTF8.byteLength(s);
    this.reserve(n);
    String.UTF8.encodeUnsafe(changetype<usize>(s), s.length, changetype<usize>(this.buf) + this.used);
    this.used += n;
  }

  // A quoted JSON string: `"` and `\` escaped, control characters as \u00XX, lone surrogates
  // replaced by U+FFFD so the output is always valid UTF-8.
  private quoted(s: string): void {
    const n = s.length;
    this.reserve(n * 6 + 2); // \u00XX is the widest form of one UTF-16 unit
    const src = changetype<usize>(s);
    let out = changetype<usize>(this.buf) + this.used;
    const start = out;
    store<u8>(out++, 0x22);
    for (let i = 0; i < n; i++) {
      let c = <u32>load<u16>(src + (<usize>i << 1));
      if (c < 0x80) {
        if (c == 0x22 || c == 0x5c) {
          store<u8>(out++, 0x5c);
          store<u8>(out++, <u8>c);
        } else if (c < 0x20) {
          store<u8>(out, 0x5c);
          store<u8>(out + 1, 0x75);
          store<u8>(out + 2, 0x30);
          store<u8>(out + 3, 0x30);
          store<u8>(out + 4, <u8>(c < 0x10 ? 0x30 : 0x31));
          const low = c & 0xf;
          store<u8>(out + 5, <u8>(low < 10 ? 0x30 + low : 0x61 + low - 10));
          out += 6;
        } else {
          store<u8>(out++, <u8>c);
        }
        continue;
      }
      if (c < 0x800) {
        store<u8>(out++, <u8>(0xc0 | (c >> 6)));
        store<u8>(out++, <u8>(0x80 | (c & 0x3f)));
        continue;
      }
      if (c >= 0xd800 && c <= 0xdfff) {
        const next = i + 1 < n ? <u32>load<u16>(src + (<usize>(i + 1) << 1)) : 0;
        if (c <= 0xdbff && next >= 0xdc00 && next <= 0xdfff) {
          const cp = 0x10000 + ((c - 0xd800) << 10) + (next - 0xdc00);
          store<u8>(out++, <u8>(0xf0 | (cp >> 18)));
          store<u8>(out++, <u8>(0x80 | ((cp >> 12) & 0x3f)));
          store<u8>(out++, <u8>(0x80 | ((cp >> 6) & 0x3f)));
          store<u8>(out++, <u8>(0x80 | (cp & 0x3f)));
          i++;
          continue;
        }
        c = 0xfffd;
      }
      store<u8>(out++, <u8>(0xe0 | (c >> 12)));
      store<u8>(out++, <u8>(0x80 | ((c >> 6) & 0x3f)));
      store<u8>(out++, <u8>(0x80 | (c & 0x3f)));
    }
    store<u8>(out++, 0x22);
    this.used += <i32>(out - start);
  }
}

/** `value` as a quoted, escaped JSON string, e.g. for building a response body by hand. */
export function jsonString(value: string): string {
  const w = new JsonWriter();
  w.string(value);
  return w.toString();
}
