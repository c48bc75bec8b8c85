import { waferError } from '../../errors.js'
import { formatSignature, type FuncType, type ModuleInfo, type ValType } from '../../runtime/wasm-binary.js'
import type { AbiDescriptor } from '../types.js'

/** Native ABI v1, docs/abi.md sections 2 and 3. */
export const ABI_ID = 'wafer-native'
export const IMPORT_MODULE = 'wafer'

const sig = (params: ValType[], results: ValType[]): FuncType => ({ params, results })

export const EXPORTS = {
  wafer_abi_version_1: sig([], []),
  wafer_alloc: sig(['i32'], ['i32']),
  wafer_init: sig(['i32', 'i32'], ['i32']),
  wafer_on_request: sig(['i32', 'i32'], ['i32']),
  wafer_on_response: sig(['i32', 'i32'], ['i32']),
  wafer_on_resume: sig(['i32', 'i32', 'i32', 'i32'], ['i32']),
  _start: sig([], []),
  _initialize: sig([], [])
} as const

export const IMPORTS = {
  output: sig(['i32', 'i32'], ['i32']),
  log: sig(['i32', 'i32', 'i32'], ['i32']),
  now_ms: sig([], ['f64']),
  random_fill: sig(['i32', 'i32'], ['i32']),
  kv_get: sig(['i32', 'i32'], ['i32']),
  kv_set: sig(['i32', 'i32', 'i32', 'i32', 'f64'], ['i32']),
  kv_incr: sig(['i32', 'i32', 'f64', 'f64'], ['i32']),
  kv_del: sig(['i32', 'i32'], ['i32'])
} as const

export type ImportName = keyof typeof IMPORTS

/** The capability a filter must be granted to import each function; `output` is the ABI itself. */
export const IMPORT_CAPABILITY: Record<ImportName, string | undefined> = {
  output: undefined,
  log: 'log',
  now_ms: 'clock',
  random_fill: 'random',
  kv_get: 'kv',
  kv_set: 'kv',
  kv_incr: 'kv',
  kv_del: 'kv'
}
const ASYNC_IMPORTS: readonly string[] = ['kv_get', 'kv_set', 'kv_incr', 'kv_del']

function sameType (a: FuncType, b: FuncType): boolean {
  return a.params.length === b.params.length && a.results.length === b.results.length &&
    a.params.every((p, i) => p === b.params[i]) && a.results.every((r, i) => r === b.results[i])
}

/** Checks presence and exact signatures of everything the host will call or provide. */
export function validateNative (info: ModuleInfo, source: string, grants?: readonly string[]): AbiDescriptor {
  const exports = new Map(info.exports.map((e) => [e.name, e]))
  const memory = exports.get('memory')
  if (memory === undefined || memory.kind !== 'memory') {
    throw waferError('WAFER_ERR_ABI_MISSING_EXPORT', [source, '"memory"', 'an exported linear memory named "memory"'])
  }
  for (const [name, expected] of Object.entries(EXPORTS)) {
    const e = exports.get(name)
    if (e === undefined) continue
    if (e.kind !== 'function' || e.type === undefined || !sameType(e.type, expected)) {
      throw waferError('WAFER_ERR_ABI_BAD_SIGNATURE', [source, `export "${name}"`, e.kind === 'function' ? formatSignature(e.type) : `a ${e.kind}`, `a function ${formatSignature(expected)}`])
    }
  }
  if (!exports.has('wafer_alloc')) {
    throw waferError('WAFER_ERR_ABI_MISSING_EXPORT', [source, '"wafer_alloc"', `a function ${formatSignature(EXPORTS.wafer_alloc)}`])
  }
  const request = exports.has('wafer_on_request')
  const response = exports.has('wafer_on_response')
  if (!request && !response) {
    throw waferError('WAFER_ERR_ABI_MISSING_EXPORT', [source, '"wafer_on_request" or "wafer_on_response"', `a function ${formatSignature(EXPORTS.wafer_on_request)}`])
  }

  let usesAsync = false
  for (const imp of info.imports) {
    const what = `"${imp.module}"."${imp.name}"`
    if (imp.module !== IMPORT_MODULE) {
      throw waferError('WAFER_ERR_ABI_UNKNOWN_IMPORT', [source, what, `native ABI modules may only import from "${IMPORT_MODULE}" (${Object.keys(IMPORTS).join(', ')})`])
    }
    const expected = (IMPORTS as Record<string, FuncType>)[imp.name]
    if (expected === undefined) {
      throw waferError('WAFER_ERR_ABI_UNKNOWN_IMPORT', [source, what, `"${IMPORT_MODULE}" provides ${Object.keys(IMPORTS).join(', ')}`])
    }
    if (imp.kind !== 'function' || imp.type === undefined || !sameType(imp.type, expected)) {
      throw waferError('WAFER_ERR_ABI_BAD_SIGNATURE', [source, `import ${what}`, imp.kind === 'function' ? formatSignature(imp.type) : `a ${imp.kind}`, `a function ${formatSignature(expected)}`])
    }
    const needs = IMPORT_CAPABILITY[imp.name as ImportName]
    if (grants !== undefined && needs !== undefined && !grants.includes(needs)) {
      throw waferError('WAFER_ERR_CAPABILITY_DENIED', [source, what, needs, grants.length === 0 ? '(none)' : grants.join(', ')])
    }
    if (ASYNC_IMPORTS.includes(imp.name)) usesAsync = true
  }
  if (usesAsync && !exports.has('wafer_on_resume')) {
    throw waferError('WAFER_ERR_ABI_MISSING_EXPORT', [source, '"wafer_on_resume"', `a function ${formatSignature(EXPORTS.wafer_on_resume)}, required because the module imports asynchronous kv_* functions`])
  }
  return { abi: ABI_ID, version: 1, request, response }
}
