/** A cursor over a WebAssembly binary: the primitives every reader of the format needs. */
export class Reader {
  pos: number
  constructor (readonly bytes: Uint8Array, pos = 0) { this.pos = pos }

  byte (): number {
    if (this.pos >= this.bytes.length) throw new Error('unexpected end of module')
    return this.bytes[this.pos++] as number
  }

  /** Unsigned LEB128 up to 64 bits (memory64 limits), as a JS number. */
  leb (): number {
    let result = 0
    let scale = 1
    for (let i = 0; i < 10; i++) {
      const b = this.byte()
      result += (b & 0x7f) * scale
      if ((b & 0x80) === 0) return result
      scale *= 128
    }
    throw new Error('malformed LEB128 integer')
  }

  skip (n: number): void {
    if (this.pos + n > this.bytes.length) throw new Error('unexpected end of module')
    this.pos += n
  }

  name (): string {
    const len = this.leb()
    const start = this.pos
    this.skip(len)
    return Buffer.from(this.bytes.buffer, this.bytes.byteOffset + start, len).toString('utf8')
  }
}

/** Encodes an unsigned LEB128 integer. */
export function leb (value: number): number[] {
  const out: number[] = []
  do {
    let b = value % 128
    value = Math.floor(value / 128)
    if (value !== 0) b |= 0x80
    out.push(b)
  } while (value !== 0)
  return out
}
