/**
 * Reads the parts of a WebAssembly binary the loader needs: imports and exports with their
 * function signatures, and memory limits. `WebAssembly.Module.imports()` reports kinds but not
 * signatures, and the loader must name the expected and the received signature in its errors.
 *
 * Only called on bytes that `WebAssembly.compile` already accepted, so malformed input is not a
 * concern beyond failing with a readable message.
 */

import { Reader } from './reader.js'

export type ValType = 'i32' | 'i64' | 'f32' | 'f64' | 'v128' | 'funcref' | 'externref'

export interface FuncType {
  params: ValType[]
  results: ValType[]
}

export type ExternKind = 'function' | 'table' | 'memory' | 'global' | 'tag'

export interface MemoryLimits {
  min: number
  max: number | undefined
  shared: boolean
  memory64: boolean
}

export interface ImportEntry {
  module: string
  name: string
  kind: ExternKind
  /** For function imports. */
  type?: FuncType
  /** For memory imports. */
  memory?: MemoryLimits
}

export interface ExportEntry {
  name: string
  kind: ExternKind
  /** For function exports. */
  type?: FuncType
}

export interface ModuleInfo {
  imports: ImportEntry[]
  exports: ExportEntry[]
  /** Memories defined by the module (not imported). */
  memories: MemoryLimits[]
}

const VALTYPES: Record<number, ValType> = {
  0x7f: 'i32', 0x7e: 'i64', 0x7d: 'f32', 0x7c: 'f64', 0x7b: 'v128', 0x70: 'funcref', 0x6f: 'externref'
}
const KINDS: ExternKind[] = ['function', 'table', 'memory', 'global', 'tag']

export function formatSignature (type: FuncType | undefined): string {
  if (type === undefined) return '(unknown)'
  const results = type.results.length === 0 ? '()' : type.results.length === 1 ? type.results[0] : `(${type.results.join(', ')})`
  return `(${type.params.join(', ')}) -> ${results}`
}

function valtype (r: Reader): ValType {
  const b = r.byte()
  const t = VALTYPES[b]
  if (t === undefined) throw new Error(`unsupported value type 0x${b.toString(16)}`)
  return t
}

function limits (r: Reader): MemoryLimits {
  const flags = r.byte()
  const min = r.leb()
  const max = (flags & 1) !== 0 ? r.leb() : undefined
  return { min, max, shared: (flags & 2) !== 0, memory64: (flags & 4) !== 0 }
}

export function readModuleInfo (bytes: Uint8Array): ModuleInfo {
  const r = new Reader(bytes)
  if (bytes.length < 8 || bytes[0] !== 0 || bytes[1] !== 0x61 || bytes[2] !== 0x73 || bytes[3] !== 0x6d) throw new Error('missing the \\0asm magic number')
  r.pos = 8
  const types: FuncType[] = []
  const funcTypes: number[] = [] // function index -> type index, imported functions first
  const imports: ImportEntry[] = []
  const rawExports: Array<{ name: string, kind: ExternKind, index: number }> = []
  const memories: MemoryLimits[] = []

  while (r.pos < bytes.length) {
    const id = r.byte()
    const size = r.leb()
    const end = r.pos + size
    switch (id) {
      case 1: { // type
        for (let n = r.leb(); n > 0; n--) {
          const form = r.byte()
          if (form !== 0x60) throw new Error(`unsupported type form 0x${form.toString(16)} (GC types are not supported)`)
          const params: ValType[] = []
          for (let p = r.leb(); p > 0; p--) params.push(valtype(r))
          const results: ValType[] = []
          for (let q = r.leb(); q > 0; q--) results.push(valtype(r))
          types.push({ params, results })
        }
        break
      }
      case 2: { // import
        for (let n = r.leb(); n > 0; n--) {
          const module = r.name()
          const name = r.name()
          const kindByte = r.byte()
          const kind = KINDS[kindByte]
          if (kind === undefined) throw new Error(`unknown import kind ${kindByte}`)
          const entry: ImportEntry = { module, name, kind }
          if (kind === 'function') {
            const typeIndex = r.leb()
            funcTypes.push(typeIndex)
            const type = types[typeIndex]
            if (type !== undefined) entry.type = type
          } else if (kind === 'table') {
            r.byte()
            limits(r)
          } else if (kind === 'memory') {
            entry.memory = limits(r)
          } else if (kind === 'global') {
            valtype(r)
            r.byte()
          } else {
            r.byte()
            r.leb()
          }
          imports.push(entry)
        }
        break
      }
      case 3: // function
        for (let n = r.leb(); n > 0; n--) funcTypes.push(r.leb())
        break
      case 5: // memory
        for (let n = r.leb(); n > 0; n--) memories.push(limits(r))
        break
      case 7: // export
        for (let n = r.leb(); n > 0; n--) {
          const name = r.name()
          const kind = KINDS[r.byte()] ?? 'function'
          rawExports.push({ name, kind, index: r.leb() })
        }
        break
      default:
        break
    }
    r.pos = end
  }

  const exports = rawExports.map(({ name, kind, index }): ExportEntry => {
    if (kind !== 'function') return { name, kind }
    const typeIndex = funcTypes[index]
    const type = typeIndex === undefined ? undefined : types[typeIndex]
    return type === undefined ? { name, kind } : { name, kind, type }
  })
  return { imports, exports, memories }
}
