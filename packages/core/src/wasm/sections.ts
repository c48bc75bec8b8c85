/** Just enough of the WebAssembly binary format to find and rewrite sections. */
import { leb, Reader } from './reader.js'

export { leb, Reader }

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
