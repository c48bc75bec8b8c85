// Decoding of JSON strings and numbers that json-parse has already validated.

@inline
export function isWs(c: u32): bool {
  return c == 0x20 || c == 0x0a || c == 0x0d || c == 0x09;
}

@inline
function hexValue(c: u32): i32 {
  if (c - 0x30 < 10) return <i32>(c - 0x30);
  const l = c | 0x20;
  if (l - 0x61 < 6) return <i32>(l - 0x61 + 10);
  return -1;
}

/** Reads 4 hex digits at `p`; -1 if any is not a hex digit or the input ends. */
export function readHex4(p: usize, end: usize): i32 {
  if (p + 4 > end) return -1;
  let v = 0;
  for (let i = 0; i < 4; i++) {
    const h = hexValue(load<u8>(p + i));
    if (h < 0) return -1;
    v = (v << 4) | h;
  }
  return v;
}

/** Writes code point `cp` as UTF-8 at `out`; returns the number of bytes written. */
function writeUtf8(out: usize, cp: u32): usize {
  if (cp < 0x80) {
    store<u8>(out, <u8>cp);
    return 1;
  }
  if (cp < 0x800) {
    store<u8>(out, <u8>(0xc0 | (cp >> 6)));
    store<u8>(out + 1, <u8>(0x80 | (cp & 0x3f)));
    return 2;
  }
  if (cp < 0x10000) {
    store<u8>(out, <u8>(0xe0 | (cp >> 12)));
    store<u8>(out + 1, <u8>(0x80 | ((cp >> 6) & 0x3f)));
    store<u8>(out + 2, <u8>(0x80 | (cp & 0x3f)));
    return 3;
  }
  store<u8>(out, <u8>(0xf0 | (cp >> 18)));
  store<u8>(out + 1, <u8>(0x80 | ((cp >> 12) & 0x3f)));
  store<u8>(out + 2, <u8>(0x80 | ((cp >> 6) & 0x3f)));
  store<u8>(out + 3, <u8>(0x80 | (cp & 0x3f)));
  return 4;
}

const REPLACEMENT: u32 = 0xfffd;

/**
 * The string whose body (between the quotes, escapes validated) is [p, stop). \uXXXX pairs
 * become one code point; a lone surrogate becomes U+FFFD.
 */
export function decodeString(p: usize, stop: usize): string {
  let escaped = false;
  for (let q = p; q < stop; q++) {
    if (load<u8>(q) == 0x5c) {
      escaped = true;
      break;
    }
  }
  if (!escaped) return String.UTF8.decodeUnsafe(p, stop - p);
  const tmp = heap.alloc(stop - p); // no escape is longer than what it stands for
  let out = tmp;
  while (p < stop) {
    const c = load<u8>(p);
    if (c != 0x5c) {
      store<u8>(out++, c);
      p++;
      continue;
    }
    const e = load<u8>(p + 1);
    p += 2;
    if (e == 0x75) { // u
      let cp = readHex4(p, stop);
      p += 4;
      if (cp >= 0xd800 && cp <= 0xdbff) {
        const lo = p + 6 <= stop && load<u8>(p) == 0x5c && load<u8>(p + 1) == 0x75 ? readHex4(p + 2, stop) : -1;
        if (lo >= 0xdc00 && lo <= 0xdfff) {
          cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
          p += 6;
        } else {
          cp = REPLACEMENT;
        }
      } else if (cp >= 0xdc00 && cp <= 0xdfff) {
        cp = REPLACEMENT;
      }
      out += writeUtf8(out, <u32>cp);
      continue;
    }
    let ch: u8 = e;
    if (e == 0x6e) ch = 0x0a; // n
    else if (e == 0x74) ch = 0x09; // t
    else if (e == 0x72) ch = 0x0d; // r
    else if (e == 0x62) ch = 0x08; // b
    else if (e == 0x66) ch = 0x0c; // f
    store<u8>(out++, ch); // ", \ and / stand for themselves
  }
  const s = String.UTF8.decodeUnsafe(tmp, out - tmp);
  heap.free(tmp);
  return s;
}

/** The number whose validated text is [p, stop). Plain integers of up to 15 digits need no string. */
export function decodeNumber(p: usize, stop: usize): f64 {
  const start = p;
  let negative = false;
  if (load<u8>(p) == 0x2d) {
    negative = true;
    p++;
  }
  let v: i64 = 0;
  let digits = 0;
  while (p < stop) {
    const d = <u32>load<u8>(p) - 0x30;
    if (d >= 10) break;
    v = v * 10 + d;
    digits++;
    p++;
  }
  if (p == stop && digits <= 15) return negative ? -<f64>v : <f64>v;
  return parseFloat(String.UTF8.decodeUnsafe(start, stop - start));
}
