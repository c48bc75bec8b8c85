// Byte-level scanning of JSON text in linear memory, without building any objects. The host's
// input is valid JSON, so these functions favour speed over validation: on malformed input they
// stop at `end` instead of trapping. Positions are absolute addresses; 0 means "not found"
// (address 0 is never inside an input buffer, which the allocator places above the data segment).

const QUOTE: u8 = 0x22; // "
const BACKSLASH: u8 = 0x5c; // \
const COMMA: u8 = 0x2c; // ,
const COLON: u8 = 0x3a; // :
const OPEN_BRACE: u8 = 0x7b; // {
const CLOSE_BRACE: u8 = 0x7d; // }
const OPEN_BRACKET: u8 = 0x5b; // [
const CLOSE_BRACKET: u8 = 0x5d; // ]

@inline
export function isWs(c: u32): bool {
  return c == 0x20 || c == 0x0a || c == 0x0d || c == 0x09;
}

export function skipWs(p: usize, end: usize): usize {
  while (p < end && isWs(load<u8>(p))) p++;
  return p;
}

// SWAR: test 8 bytes at once for a quote or a backslash (the classic "has zero byte" trick on
// the word XOR-ed with each). It can report a false hit after a real one but never misses, so a
// hit just falls back to the byte loop. Header values make up most of an input, and this is
// what skipping them costs.
const ONES: u64 = 0x0101010101010101;
const HIGHS: u64 = 0x8080808080808080;
const QUOTES: u64 = 0x2222222222222222;
const BACKSLASHES: u64 = 0x5c5c5c5c5c5c5c5c;

@inline
function hasQuoteOrBackslash(w: u64): bool {
  const q = w ^ QUOTES;
  const b = w ^ BACKSLASHES;
  return (((q - ONES) & ~q) | ((b - ONES) & ~b)) & HIGHS ? true : false;
}

/** Position of the first `"` or `\` in [p, end), or `end`. */
@inline
function findQuoteOrBackslash(p: usize, end: usize): usize {
  while (p + 8 <= end && !hasQuoteOrBackslash(load<u64>(p))) p += 8;
  while (p < end) {
    const c = load<u8>(p);
    if (c == QUOTE || c == BACKSLASH) return p;
    p++;
  }
  return end;
}

/** `p` is at the opening quote; returns the position just after the closing quote. */
@inline
export function skipString(p: usize, end: usize): usize {
  p++;
  while (true) {
    p = findQuoteOrBackslash(p, end);
    if (p >= end) return end;
    if (load<u8>(p) == QUOTE) return p + 1;
    p += 2;
  }
}

/** `p` is at the first byte of a value; returns the position just after it. */
export function skipValue(p: usize, end: usize): usize {
  if (p >= end) return end;
  const first = load<u8>(p);
  if (first == QUOTE) return skipString(p, end);
  if (first == OPEN_BRACE || first == OPEN_BRACKET) {
    let depth = 0;
    while (p < end) {
      const c = load<u8>(p);
      if (c == QUOTE) {
        p = skipString(p, end);
        continue;
      }
      if (c == OPEN_BRACE || c == OPEN_BRACKET) depth++;
      else if (c == CLOSE_BRACE || c == CLOSE_BRACKET) {
        if (--depth == 0) return p + 1;
      }
      p++;
    }
    return end;
  }
  // number, true, false, null
  while (p < end) {
    const c = load<u8>(p);
    if (c == COMMA || c == CLOSE_BRACE || c == CLOSE_BRACKET || isWs(c)) break;
    p++;
  }
  return p;
}

/**
 * Compares the key bytes [start, stop) with the UTF-16 name at `name` (`n` units). With
 * `foldCase`, upper-case ASCII letters in the name match their lower-case form, which is how
 * header names arrive. Raw pointers rather than a string keep this loop free of GC bookkeeping.
 */
@inline
function keyEquals(start: usize, stop: usize, name: usize, n: i32, foldCase: bool): bool {
  if (<i32>(stop - start) != n) return false;
  for (let i = 0; i < n; i++) {
    let c = <u32>load<u16>(name + (<usize>i << 1));
    if (foldCase && c - 0x41 < 26) c += 0x20;
    if (<u32>load<u8>(start + i) != c) return false;
  }
  return true;
}

/**
 * `obj` is at an object's `{`; returns the position of the value of member `name`, or 0.
 * Keys are compared byte-wise, so a key written with escapes never matches; the ABI's keys
 * (field names and lower-case header names) never contain any.
 */
export function findMember(obj: usize, end: usize, name: string, foldCase: bool): usize {
  return findMemberRaw(obj, end, changetype<usize>(name), name.length, foldCase);
}

function findMemberRaw(obj: usize, end: usize, name: usize, nameLen: i32, foldCase: bool): usize {
  let p = skipWs(obj, end);
  if (p >= end || load<u8>(p) != OPEN_BRACE) return 0;
  p++;
  while (true) {
    p = skipWs(p, end);
    if (p >= end || load<u8>(p) != QUOTE) return 0;
    const keyStart = p + 1;
    p = skipString(p, end);
    const keyStop = p - 1;
    p = skipWs(p, end);
    if (p >= end || load<u8>(p) != COLON) return 0;
    p = skipWs(p + 1, end);
    if (keyEquals(keyStart, keyStop, name, nameLen, foldCase)) return p;
    p = skipWs(skipValue(p, end), end);
    if (p >= end || load<u8>(p) != COMMA) return 0;
    p++;
  }
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
export function writeUtf8(out: usize, cp: u32): usize {
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
 * Decodes the escapes of the string body [p, stop) into UTF-8 at `out` (which needs at most
 * stop - p bytes: no escape expands) and returns the number of bytes written. \uXXXX pairs
 * become one code point; a lone surrogate becomes U+FFFD.
 */
function unescapeInto(p: usize, stop: usize, out: usize): usize {
  const start = out;
  while (p < stop) {
    const c = load<u8>(p);
    if (c != BACKSLASH) {
      store<u8>(out++, c);
      p++;
      continue;
    }
    const e = p + 1 < stop ? load<u8>(p + 1) : 0;
    p += 2;
    if (e == 0x75) { // u
      let cp = readHex4(p, stop);
      if (cp < 0) {
        out += writeUtf8(out, REPLACEMENT);
        continue;
      }
      p += 4;
      if (cp >= 0xd800 && cp <= 0xdbff) {
        const lo = p + 6 <= stop && load<u8>(p) == BACKSLASH && load<u8>(p + 1) == 0x75 ? readHex4(p + 2, stop) : -1;
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
    store<u8>(out++, ch); // ", \, / and anything unknown stand for themselves
  }
  return out - start;
}

/** `p` is at a string's opening quote; returns its decoded value, or null if `p` is not a string. */
export function decodeString(p: usize, end: usize): string | null {
  if (p == 0 || p >= end || load<u8>(p) != QUOTE) return null;
  const start = p + 1;
  let q = start;
  let escaped = false;
  while (true) {
    q = findQuoteOrBackslash(q, end);
    if (q >= end || load<u8>(q) == QUOTE) break;
    escaped = true;
    q += 2;
  }
  if (q > end) q = end;
  if (!escaped) return String.UTF8.decodeUnsafe(start, q - start);
  const tmp = heap.alloc(q - start);
  const n = unescapeInto(start, q, tmp);
  const s = String.UTF8.decodeUnsafe(tmp, n);
  heap.free(tmp);
  return s;
}

/**
 * `p` is at a number; returns its value, or NaN if `p` is not a number. Plain integers of up to
 * 15 digits (every status code, counter and timestamp) are converted without allocating.
 */
export function decodeNumber(p: usize, end: usize): f64 {
  if (p == 0 || p >= end) return NaN;
  const start = p;
  let negative = false;
  if (load<u8>(p) == 0x2d) {
    negative = true;
    p++;
  }
  let v: i64 = 0;
  let digits = 0;
  while (p < end) {
    const d = <u32>load<u8>(p) - 0x30;
    if (d >= 10) break;
    v = v * 10 + d;
    digits++;
    p++;
  }
  if (digits == 0) return NaN;
  const c: u32 = p < end ? load<u8>(p) : 0;
  if (c != 0x2e && (c | 0x20) != 0x65 && digits <= 15) return negative ? -<f64>v : <f64>v;
  const stop = skipValue(start, end);
  return parseFloat(String.UTF8.decodeUnsafe(start, stop - start));
}

/** `arr` is at an array's `[`; returns the position of its first element, or 0 if it is empty. */
export function firstElement(arr: usize, end: usize): usize {
  let p = skipWs(arr, end);
  if (p >= end || load<u8>(p) != OPEN_BRACKET) return 0;
  p = skipWs(p + 1, end);
  return p < end && load<u8>(p) != CLOSE_BRACKET ? p : 0;
}

/** `p` is at an array element; returns the position of the next one, or 0 after the last. */
export function nextElement(p: usize, end: usize): usize {
  p = skipWs(skipValue(p, end), end);
  if (p >= end || load<u8>(p) != COMMA) return 0;
  p = skipWs(p + 1, end);
  return p < end ? p : 0;
}

/** True if the value at `p` is a JSON array. */
export function isArrayAt(p: usize, end: usize): bool {
  return p != 0 && p < end && load<u8>(p) == OPEN_BRACKET;
}
