import { readModuleInfo } from '../wasm/binary.js'
import { leb, Reader, replaceSection, SECTION, sections } from '../wasm/sections.js'

/**
 * Caps a module's linear memory by rewriting the limits in its memory section, so that
 * `memory.grow` past the cap fails inside the guest (returns -1) instead of taking host memory.
 *
 * This edits the binary directly rather than going through binaryen: one limit does not need a
 * full decode, and binaryen's `setMemory` would also rebuild every data segment.
 */

const WASM_MAX_PAGES = 65536
const PAGE = 65536

/**
 * Returns a copy of `bytes` whose defined memories have a maximum of at most `pages` 64 KiB
 * pages: min(declared maximum, pages), or `pages` when none was declared. Throws if a memory's
 * initial size already exceeds the cap, if the module imports its memory (native-ABI modules
 * define and export their own), or if a memory is shared or 64-bit.
 */
export function capMemory (bytes: Uint8Array, pages: number): Uint8Array<ArrayBuffer> {
  const all = sections(bytes)
  const imported = readModuleInfo(bytes).imports.filter((i) => i.kind === 'memory').map((i) => `"${i.module}"."${i.name}"`)
  if (imported.length > 0) {
    throw new Error(`cannot cap the memory of a module that imports it (${imported.join(', ')}); a native-ABI filter must define and export its own memory`)
  }
  const memory = all.find((s) => s.id === SECTION.memory)
  if (memory === undefined) return bytes.slice()

  const r = new Reader(bytes, memory.payloadStart)
  const count = r.leb()
  const payload: number[] = leb(count)
  for (let i = 0; i < count; i++) {
    const flags = r.byte()
    if ((flags & ~1) !== 0) {
      throw new Error(`cannot cap memory ${i}: its limits have flags 0x${flags.toString(16)} (shared, 64-bit or custom page size), which the sandbox does not support`)
    }
    const initial = r.leb()
    const declared = (flags & 1) !== 0 ? r.leb() : undefined
    if (initial > pages) {
      throw new Error(`the module's memory starts at ${initial} pages (${initial * PAGE} bytes), more than the cap of ${pages} pages (${pages * PAGE} bytes)`)
    }
    payload.push(0x01, ...leb(initial), ...leb(Math.min(declared ?? WASM_MAX_PAGES, pages)))
  }
  if (r.pos !== memory.end) throw new Error('malformed memory section')
  return replaceSection(bytes, memory, Uint8Array.from(payload))
}
