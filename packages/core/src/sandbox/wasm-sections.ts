/** Just enough of the WebAssembly binary format to find and rewrite sections. */

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
    return new TextDecoder().decode(this.bytes.subarray(start, start + len))
  }
}

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

export interface Section {
  id: number
  /** Offset of the section id byte. */
  start: number
  payloadStart: number
  /** Offset just past the payload. */
  end: number
}

export const SECTION = { custom: 0, import: 2, memory: 5 } as const

export function sections (bytes: Uint8Array): Section[] {
  const r = new Reader(bytes, 8)
  const out: Section[] = []
  while (r.pos < bytes.length) {
    const start = r.pos
    const id = r.byte()
    const size = r.leb()
    const payloadStart = r.pos
    r.skip(size)
    out.push({ id, start, payloadStart, end: r.pos })
  }
  return out
}

export function customSectionNames (bytes: Uint8Array): string[] {
  return sections(bytes).filter((s) => s.id === SECTION.custom).map((s) => new Reader(bytes, s.payloadStart).name())
}

/** `bytes` with the section `old` replaced by one with the same id and `payload`. */
export function replaceSection (bytes: Uint8Array, old: Section, payload: Uint8Array): Uint8Array<ArrayBuffer> {
  const header = Uint8Array.from([old.id, ...leb(payload.length)])
  const out = new Uint8Array(bytes.length - (old.end - old.start) + header.length + payload.length)
  out.set(bytes.subarray(0, old.start), 0)
  out.set(header, old.start)
  out.set(payload, old.start + header.length)
  out.set(bytes.subarray(old.end), old.start + header.length + payload.length)
  return out
}
