/**
 * Header maps in Proxy-Wasm's serialised form (spec "Serialization"): a little-endian u32 count,
 * then a u32 key length and a u32 value length per pair, then each key and each value followed by
 * a NUL byte. Names and values are bytes, read and written one character per byte (Latin-1), as
 * Node.js keeps header values.
 */
export type Pair = readonly [name: string, value: string]

const EMPTY = Buffer.alloc(0)

/** The pairs serialised; an empty map is empty bytes (the spec allows that or a single 0). */
export function serializePairs (pairs: readonly Pair[]): Buffer {
  if (pairs.length === 0) return EMPTY
  let size = 4 + pairs.length * 8
  for (const [k, v] of pairs) size += k.length + v.length + 2
  const out = Buffer.allocUnsafe(size)
  out.writeUInt32LE(pairs.length, 0)
  let at = 4
  for (const [k, v] of pairs) {
    out.writeUInt32LE(k.length, at)
    out.writeUInt32LE(v.length, at + 4)
    at += 8
  }
  for (const [k, v] of pairs) {
    at += out.write(k, at, 'latin1')
    out[at++] = 0
    at += out.write(v, at, 'latin1')
    out[at++] = 0
  }
  return out
}

/**
 * The pairs in `bytes`, or a description of what is wrong with them: a count or a length that
 * runs past the end. Empty bytes and a single 0 byte are the empty map.
 */
export function parsePairs (bytes: Uint8Array): Pair[] | string {
  if (bytes.length === 0 || (bytes.length === 1 && bytes[0] === 0)) return []
  const b = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length)
  if (b.length < 4) return `${b.length} bytes is too short for a pair count`
  const count = b.readUInt32LE(0)
  if (count > (b.length - 4) / 10) return `a count of ${count} pairs does not fit in ${b.length} bytes`
  let at = 4 + count * 8
  const pairs: Pair[] = []
  for (let i = 0; i < count; i++) {
    const kl = b.readUInt32LE(4 + i * 8)
    const vl = b.readUInt32LE(8 + i * 8)
    if (at + kl + vl + 2 > b.length) return `pair ${i} (lengths ${kl} and ${vl}) runs past the end of ${b.length} bytes`
    const k = b.toString('latin1', at, at + kl)
    at += kl + 1
    const v = b.toString('latin1', at, at + vl)
    at += vl + 1
    pairs.push([k, v])
  }
  return pairs
}
