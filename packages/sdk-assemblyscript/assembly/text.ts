// Strings to and from the bytes the host speaks (docs/abi.md section 3): header names are
// ASCII tokens, header values, paths and queries one byte per character (Latin-1), bodies, log
// lines and kv keys UTF-8. Encoding writes into the scratch buffers; decoding creates the one
// string the author asked for.
import { nameBuffer, valueBuffer } from "./scratch";

const REPLACE = String.UTF8.ErrorMode.REPLACE;

// A character that cannot be sent as one byte becomes NUL, which the host refuses (INVALID,
// WAFER_ERR_ABI_BAD_OUTPUT): a value is never changed silently.
@inline
function byteOf(c: u32): u32 {
  return c <= 0xff ? c : 0;
}

/** Writes `s` one byte per character into the value buffer; returns its length. */
export function putLatin1(s: string): i32 {
  const n = s.length;
  const dst = valueBuffer(n);
  const src = changetype<usize>(s);
  for (let i = 0; i < n; i++) store<u8>(dst + <usize>i, <u8>byteOf(<u32>load<u16>(src + (<usize>i << 1))));
  return n;
}

/** Writes `s` as UTF-8 into the value buffer (lone surrogates as U+FFFD); returns its length. */
export function putUtf8(s: string): i32 {
  const n = String.UTF8.byteLength(s);
  const dst = valueBuffer(n);
  return <i32>String.UTF8.encodeUnsafe(changetype<usize>(s), s.length, dst, false, REPLACE);
}

/** Writes `s` as UTF-8 into the name buffer (kv keys); returns its length. */
export function putUtf8Name(s: string): i32 {
  const n = String.UTF8.byteLength(s);
  const dst = nameBuffer(n);
  return <i32>String.UTF8.encodeUnsafe(changetype<usize>(s), s.length, dst, false, REPLACE);
}

/** The string of `len` bytes at `ptr`, one character per byte. */
export function latin1String(ptr: usize, len: i32): string {
  if (len <= 0) return "";
  const out = changetype<string>(__new(<usize>len << 1, idof<string>()));
  const dst = changetype<usize>(out);
  for (let i = 0; i < len; i++) store<u16>(dst + (<usize>i << 1), <u16>load<u8>(ptr + <usize>i));
  return out;
}

/** True if the `len` bytes at `ptr` are valid UTF-8 (no overlongs, surrogates or > U+10FFFF). */
export function isUtf8(ptr: usize, len: i32): bool {
  const end = ptr + <usize>len;
  let p = ptr;
  while (p < end) {
    const c = <u32>load<u8>(p);
    if (c < 0x80) {
      p++;
      continue;
    }
    let n: i32;
    let min: u32;
    let cp: u32;
    if ((c & 0xe0) == 0xc0) { n = 1; min = 0x80; cp = c & 0x1f; }
    else if ((c & 0xf0) == 0xe0) { n = 2; min = 0x800; cp = c & 0x0f; }
    else if ((c & 0xf8) == 0xf0) { n = 3; min = 0x10000; cp = c & 0x07; }
    else return false;
    if (p + <usize>n >= end) return false;
    for (let i = 1; i <= n; i++) {
      const d = <u32>load<u8>(p + <usize>i);
      if ((d & 0xc0) != 0x80) return false;
      cp = (cp << 6) | (d & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return false;
    p += <usize>(n + 1);
  }
  return true;
}

/** `s` equals the `len` bytes at `ptr` read one byte per character. */
export function equalsLatin1(s: string, ptr: usize, len: i32): bool {
  if (s.length != len) return false;
  const src = changetype<usize>(s);
  for (let i = 0; i < len; i++) {
    if (<u32>load<u16>(src + (<usize>i << 1)) != <u32>load<u8>(ptr + <usize>i)) return false;
  }
  return true;
}
