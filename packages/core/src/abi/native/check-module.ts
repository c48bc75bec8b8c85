import { waferError } from '../../errors.js'
import { formatSignature, type FuncType, type ModuleInfo, type ValType } from '../../wasm/binary.js'
import type { AbiDescriptor, AbiDetection } from '../types.js'

export const ABI_ID = 'wafer-native'
export const IMPORT_MODULE = 'wafer'
/** The version of the native ABI this host runs (docs/abi.md). */
export const NATIVE_VERSION = 2

const MARKER = /^wafer_abi_version_(\d+)$/
/** Versions this host ran once, and what to do about a module built for one. */
const RETIRED: ReadonlyMap<number, string> = new Map([
  [1, 'version 1 (wafer_abi_version_1: JSON documents), which version 2 (host calls) replaced; rebuild the filter with the current @wafer/sdk-assemblyscript, or port it to docs/abi.md']
])

/** A module speaks the native ABI when it exports exactly one `wafer_abi_version_<N>` marker, N this host's version. */
export function detectNative (info: ModuleInfo): AbiDetection {
  let version: number | undefined
  let declared: number[] | undefined
  for (const e of info.exports) {
    const m = MARKER.exec(e.name)
    if (m === null) continue
    if (version === undefined) version = Number(m[1])
    else (declared ??= [version]).push(Number(m[1]))
  }
  if (version === undefined) return false
  if (declared !== undefined) return { refused: 'version', declared: `versions ${declared.join(' and ')} at once` }
  if (version === NATIVE_VERSION) return true
  return { refused: 'version', declared: RETIRED.get(version) ?? `version ${version} (wafer_abi_version_${version})` }
}

export const sig = (params: ValType[], results: ValType[]): FuncType => ({ params, results })

/** One version of the native ABI as tables: what a module may export and import. */
export interface NativeSpec {
  version: number
  exports: Readonly<Record<string, FuncType>>
  /** Exports a module must have besides `memory` and a phase entry point. */
  required: readonly string[]
  imports: Readonly<Record<string, FuncType>>
  /** The capability each import needs; undefined: the ABI itself. */
  capability: Readonly<Record<string, string | undefined>>
  /** Imports whose results may arrive later, which need `wafer_on_resume`. */
  asyncImports: readonly string[]
}

function sameType (a: FuncType, b: FuncType): boolean {
  return a.params.length === b.params.length && a.results.length === b.results.length &&
    a.params.every((p, i) => p === b.params[i]) && a.results.every((r, i) => r === b.results[i])
}

/** Checks presence and exact signatures of everything the host will call or provide. */
export function checkNativeModule (spec: NativeSpec, info: ModuleInfo, source: string, grants?: readonly string[]): AbiDescriptor {
  const exports = new Map(info.exports.map((e) => [e.name, e]))
  const memory = exports.get('memory')
  if (memory === undefined || memory.kind !== 'memory') {
    throw waferError('WAFER_ERR_ABI_MISSING_EXPORT', [source, '"memory"', 'an exported linear memory named "memory"'])
  }
  for (const [name, expected] of Object.entries(spec.exports)) {
    const e = exports.get(name)
    if (e === undefined) continue
    if (e.kind !== 'function' || e.type === undefined || !sameType(e.type, expected)) {
      throw waferError('WAFER_ERR_ABI_BAD_SIGNATURE', [source, `export "${name}"`, e.kind === 'function' ? formatSignature(e.type) : `a ${e.kind}`, `a function ${formatSignature(expected)}`])
    }
  }
  for (const name of spec.required) {
    if (!exports.has(name)) {
      throw waferError('WAFER_ERR_ABI_MISSING_EXPORT', [source, `"${name}"`, `a function ${formatSignature(spec.exports[name] as FuncType)}`])
    }
  }
  const request = exports.has('wafer_on_request')
  const response = exports.has('wafer_on_response')
  if (!request && !response) {
    throw waferError('WAFER_ERR_ABI_MISSING_EXPORT', [source, '"wafer_on_request" or "wafer_on_response"', `a function ${formatSignature(spec.exports.wafer_on_request as FuncType)}`])
  }
  const provided = Object.keys(spec.imports).join(', ')
  let usesAsync = false
  for (const imp of info.imports) {
    const what = `"${imp.module}"."${imp.name}"`
    if (imp.module !== IMPORT_MODULE) {
      throw waferError('WAFER_ERR_ABI_UNKNOWN_IMPORT', [source, what, `native ABI modules may only import from "${IMPORT_MODULE}" (${provided})`])
    }
    const expected = spec.imports[imp.name]
    if (expected === undefined) {
      throw waferError('WAFER_ERR_ABI_UNKNOWN_IMPORT', [source, what, `"${IMPORT_MODULE}" provides ${provided} in ABI version ${spec.version}`])
    }
    if (imp.kind !== 'function' || imp.type === undefined || !sameType(imp.type, expected)) {
      throw waferError('WAFER_ERR_ABI_BAD_SIGNATURE', [source, `import ${what}`, imp.kind === 'function' ? formatSignature(imp.type) : `a ${imp.kind}`, `a function ${formatSignature(expected)}`])
    }
    const needs = spec.capability[imp.name]
    if (grants !== undefined && needs !== undefined && !grants.includes(needs)) {
      throw waferError('WAFER_ERR_CAPABILITY_DENIED', [source, what, needs, grants.length === 0 ? '(none)' : grants.join(', ')])
    }
    if (spec.asyncImports.includes(imp.name)) usesAsync = true
  }
  if (usesAsync && !exports.has('wafer_on_resume')) {
    throw waferError('WAFER_ERR_ABI_MISSING_EXPORT', [source, '"wafer_on_resume"', `a function ${formatSignature(spec.exports.wafer_on_resume as FuncType)}, required because the module imports asynchronous kv_* functions`])
  }
  return { abi: ABI_ID, version: spec.version, request, response }
}
