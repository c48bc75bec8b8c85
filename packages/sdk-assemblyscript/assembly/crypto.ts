// SHA-256 (FIPS 180-4), HMAC-SHA256 (RFC 2104) and Base64 (RFC 4648) as pure guest code:
// a filter verifying HS256 JWTs then needs no host import beyond the Wafer ABI itself.
import { ByteBuffer } from "./bytes";

// FIPS 180-4 §4.2.2: first 32 bits of the fractional parts of the cube roots of the
// first 64 primes.
const K: StaticArray<u32> = [
  0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
  0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
  0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
  0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
  0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
  0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
  0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
  0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
];

const BLOCK_BYTES = 64;
const DIGEST_BYTES = 32;

// Module-level scratch keeps hashing free of allocations. Sharing it is safe because a
// Wasm instance is single-threaded and none of these functions re-enters another.
const H = new StaticArray<u32>(8);
const W = new StaticArray<u32>(64);
// Room for the last partial block plus padding, which can spill into a second block.
const TAIL = new StaticArray<u8>(BLOCK_BYTES * 2);
const HMAC_KEY = new StaticArray<u8>(BLOCK_BYTES);
const HMAC_PAD = new StaticArray<u8>(BLOCK_BYTES);
const INNER = new StaticArray<u8>(DIGEST_BYTES);

function hashInit(): void {
  unchecked((H[0] = 0x6a09e667));
  unchecked((H[1] = 0xbb67ae85));
  unchecked((H[2] = 0x3c6ef372));
  unchecked((H[3] = 0xa54ff53a));
  unchecked((H[4] = 0x510e527f));
  unchecked((H[5] = 0x9b05688c));
  unchecked((H[6] = 0x1f83d9ab));
  unchecked((H[7] = 0x5be0cd19));
}

// @ts-ignore: decorator
@inline function bigEndian32(ptr: usize): u32 {
  // Wasm memory is little-endian; SHA-256 words are big-endian.
  return bswap<u32>(load<u32>(ptr));
}

function compress(block: usize): void {
  for (let i = 0; i < 16; i++) {
    unchecked((W[i] = bigEndian32(block + (<usize>i << 2))));
  }
  for (let i = 16; i < 64; i++) {
    const w15 = unchecked(W[i - 15]);
    const w2 = unchecked(W[i - 2]);
    const s0 = rotr<u32>(w15, 7) ^ rotr<u32>(w15, 18) ^ (w15 >>> 3);
    const s1 = rotr<u32>(w2, 17) ^ rotr<u32>(w2, 19) ^ (w2 >>> 10);
    unchecked((W[i] = W[i - 16] + s0 + W[i - 7] + s1));
  }

  let a = unchecked(H[0]), b = unchecked(H[1]), c = unchecked(H[2]), d = unchecked(H[3]);
  let e = unchecked(H[4]), f = unchecked(H[5]), g = unchecked(H[6]), h = unchecked(H[7]);
  for (let i = 0; i < 64; i++) {
    const s1 = rotr<u32>(e, 6) ^ rotr<u32>(e, 11) ^ rotr<u32>(e, 25);
    const ch = (e & f) ^ (~e & g);
    const t1 = h + s1 + ch + unchecked(K[i]) + unchecked(W[i]);
    const s0 = rotr<u32>(a, 2) ^ rotr<u32>(a, 13) ^ rotr<u32>(a, 22);
    const maj = (a & b) ^ (a & c) ^ (b & c);
    const t2 = s0 + maj;
    h = g;
    g = f;
    f = e;
    e = d + t1;
    d = c;
    c = b;
    b = a;
    a = t1 + t2;
  }
  unchecked((H[0] += a));
  unchecked((H[1] += b));
  unchecked((H[2] += c));
  unchecked((H[3] += d));
  unchecked((H[4] += e));
  unchecked((H[5] += f));
  unchecked((H[6] += g));
  unchecked((H[7] += h));
}

// Hashes `len` bytes at `ptr` and finishes the digest into H. `prefixBytes` counts blocks
// already compressed (HMAC's key block), because the padding encodes the total length.
function absorbAndFinish(ptr: usize, len: i32, prefixBytes: i32): void {
  const full = len & ~(BLOCK_BYTES - 1);
  for (let off = 0; off < full; off += BLOCK_BYTES) compress(ptr + off);

  const rem = len - full;
  const tail = changetype<usize>(TAIL);
  memory.copy(tail, ptr + full, rem);
  store<u8>(tail + rem, 0x80);
  // The 64-bit length needs the last 8 bytes of a block; with 56+ bytes left it cannot
  // share the final data block.
  const blocks = rem < BLOCK_BYTES - 8 ? 1 : 2;
  const end = blocks * BLOCK_BYTES;
  memory.fill(tail + rem + 1, 0, end - rem - 1);
  const bits = (<u64>prefixBytes + <u64>len) << 3;
  store<u64>(tail + end - 8, bswap<u64>(bits));
  compress(tail);
  if (blocks == 2) compress(tail + BLOCK_BYTES);
}

function storeDigest(ptr: usize): void {
  for (let i = 0; i < 8; i++) {
    store<u32>(ptr + (<usize>i << 2), bswap<u32>(unchecked(H[i])));
  }
}

/**
 * The SHA-256 digest of `data`'s bytes, written into `out` (at least 32 bytes): nothing is
 * allocated.
 */
export function sha256Into(data: ByteBuffer, out: Uint8Array): void {
  if (out.length < DIGEST_BYTES) throw new RangeError("sha256Into: the output needs 32 bytes");
  hashInit();
  absorbAndFinish(data.dataStart, data.length, 0);
  storeDigest(out.dataStart);
}

export function sha256(data: Uint8Array): Uint8Array {
  hashInit();
  absorbAndFinish(data.dataStart, data.length, 0);
  const out = new Uint8Array(DIGEST_BYTES);
  storeDigest(out.dataStart);
  return out;
}

function xorKeyInto(pad: usize, mask: u8): void {
  const key = changetype<usize>(HMAC_KEY);
  for (let i = 0; i < BLOCK_BYTES; i++) {
    store<u8>(pad + i, load<u8>(key + i) ^ mask);
  }
}

export function hmacSha256(key: Uint8Array, data: Uint8Array): Uint8Array {
  const k = changetype<usize>(HMAC_KEY);
  memory.fill(k, 0, BLOCK_BYTES);
  if (key.length > BLOCK_BYTES) {
    // RFC 2104 §2: longer keys are replaced by their hash.
    hashInit();
    absorbAndFinish(key.dataStart, key.length, 0);
    storeDigest(k);
  } else {
    memory.copy(k, key.dataStart, key.length);
  }

  // Streaming the pads as prefix blocks avoids copying the message into a K ^ ipad || m
  // buffer.
  const pad = changetype<usize>(HMAC_PAD);
  const inner = changetype<usize>(INNER);
  xorKeyInto(pad, 0x36);
  hashInit();
  compress(pad);
  absorbAndFinish(data.dataStart, data.length, BLOCK_BYTES);
  storeDigest(inner);

  xorKeyInto(pad, 0x5c);
  hashInit();
  compress(pad);
  absorbAndFinish(inner, DIGEST_BYTES, BLOCK_BYTES);
  const out = new Uint8Array(DIGEST_BYTES);
  storeDigest(out.dataStart);
  return out;
}

const STD_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
const URL_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
const PAD_CHAR: u16 = 0x3d; // '='

// @ts-ignore: decorator
@inline function charAt(alphabet: usize, index: u32): u16 {
  // Strings are UTF-16: two bytes per code unit.
  return load<u16>(alphabet + ((<usize>index & 63) << 1));
}

function encode(data: Uint8Array, alphabet: string, padded: bool): string {
  const len = data.length;
  const rem = len % 3;
  const full = len - rem;
  const outLen = padded ? (len + 2) / 3 * 4 : full / 3 * 4 + (rem ? rem + 1 : 0);
  // Writing into a fresh string avoids building it one concatenation at a time.
  const out = __new(<usize>outLen << 1, idof<string>());
  const src = data.dataStart;
  const abc = changetype<usize>(alphabet);
  let o = out;
  for (let i = 0; i < full; i += 3) {
    const n = (<u32>load<u8>(src + i) << 16) | (<u32>load<u8>(src + i + 1) << 8) | load<u8>(src + i + 2);
    store<u16>(o, charAt(abc, n >>> 18));
    store<u16>(o + 2, charAt(abc, n >>> 12));
    store<u16>(o + 4, charAt(abc, n >>> 6));
    store<u16>(o + 6, charAt(abc, n));
    o += 8;
  }
  if (rem) {
    let n = <u32>load<u8>(src + full) << 16;
    if (rem == 2) n |= <u32>load<u8>(src + full + 1) << 8;
    store<u16>(o, charAt(abc, n >>> 18));
    store<u16>(o + 2, charAt(abc, n >>> 12));
    if (rem == 2) store<u16>(o + 4, charAt(abc, n >>> 6));
    else if (padded) store<u16>(o + 4, PAD_CHAR);
    if (padded) store<u16>(o + 6, PAD_CHAR);
  }
  return changetype<string>(out);
}

// Returns the 6-bit value of a character, or -1 (all bits set, so OR-ing four results
// detects any invalid one with a single sign test).
// @ts-ignore: decorator
@inline function sextet(c: u32, url: bool): i32 {
  if (c - 0x41 < 26) return <i32>c - 0x41; // A-Z
  if (c - 0x61 < 26) return <i32>c - 0x61 + 26; // a-z
  if (c - 0x30 < 10) return <i32>c - 0x30 + 52; // 0-9
  if (c == (url ? 0x2d : 0x2b)) return 62; // - or +
  if (c == (url ? 0x5f : 0x2f)) return 63; // _ or /
  return -1;
}

function decode(s: string, url: bool, padRequired: bool): Uint8Array | null {
  const src = changetype<usize>(s);
  let n = s.length;
  let pad = 0;
  if (n >= 1 && load<u16>(src + (<usize>(n - 1) << 1)) == PAD_CHAR) {
    pad = n >= 2 && load<u16>(src + (<usize>(n - 2) << 1)) == PAD_CHAR ? 2 : 1;
  }
  // Padding, when present, must complete the last quantum, so it fixes the length.
  if ((pad || padRequired) && n & 3) return null;
  n -= pad;
  const rem = n & 3;
  // One leftover character carries only 6 bits, less than a byte.
  if (rem == 1) return null;

  const full = n - rem;
  const out = new Uint8Array((full >> 2) * 3 + (rem ? rem - 1 : 0));
  let o = out.dataStart;
  for (let i = 0; i < full; i += 4) {
    const p = src + (<usize>i << 1);
    const a = sextet(load<u16>(p), url);
    const b = sextet(load<u16>(p, 2), url);
    const c = sextet(load<u16>(p, 4), url);
    const d = sextet(load<u16>(p, 6), url);
    if ((a | b | c | d) < 0) return null;
    const v = (a << 18) | (b << 12) | (c << 6) | d;
    store<u8>(o, v >>> 16);
    store<u8>(o, v >>> 8, 1);
    store<u8>(o, v, 2);
    o += 3;
  }
  if (rem) {
    const p = src + (<usize>full << 1);
    const a = sextet(load<u16>(p), url);
    const b = sextet(load<u16>(p, 2), url);
    const c = rem == 3 ? sextet(load<u16>(p, 4), url) : 0;
    if ((a | b | c) < 0) return null;
    // Nonzero leftover bits mean a non-canonical encoding (RFC 4648 §3.5); rejecting it
    // keeps one signature from having several accepted spellings.
    if (rem == 2 ? b & 0xf : c & 0x3) return null;
    const v = (a << 18) | (b << 12) | (c << 6);
    store<u8>(o, v >>> 16);
    if (rem == 3) store<u8>(o, v >>> 8, 1);
  }
  return out;
}

export function base64UrlDecode(s: string): Uint8Array | null {
  return decode(s, true, false);
}

export function base64UrlEncode(data: Uint8Array): string {
  return encode(data, URL_ALPHABET, false);
}

export function base64Decode(s: string): Uint8Array | null {
  return decode(s, false, true);
}

export function base64Encode(data: Uint8Array): string {
  return encode(data, STD_ALPHABET, true);
}

export function constantTimeEqual(a: Uint8Array, b: Uint8Array): bool {
  const n = a.length;
  if (n != b.length) return false;
  const pa = a.dataStart;
  const pb = b.dataStart;
  // Accumulate every difference rather than exiting at the first, so the time taken
  // does not reveal how long a prefix of a forged MAC was correct.
  let diff: u32 = 0;
  for (let i = 0; i < n; i++) diff |= load<u8>(pa + i) ^ load<u8>(pb + i);
  return diff == 0;
}
