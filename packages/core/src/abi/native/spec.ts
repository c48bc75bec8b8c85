import type { AbiDescriptor } from '../types.js'
import type { ModuleInfo } from '../../runtime/wasm-binary.js'
import { checkNativeModule, sig, type NativeSpec } from './check-module.js'

export { ABI_ID, IMPORT_MODULE } from './check-module.js'

/** Native ABI v1, docs/abi.md sections 2 and 3. */
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

const SPEC: NativeSpec = {
  version: 1,
  exports: EXPORTS,
  required: ['wafer_alloc'],
  imports: IMPORTS,
  capability: IMPORT_CAPABILITY,
  asyncImports: ['kv_get', 'kv_set', 'kv_incr', 'kv_del']
}

/** Checks presence and exact signatures of everything the host will call or provide. */
export function validateNative (info: ModuleInfo, source: string, grants?: readonly string[]): AbiDescriptor {
  return checkNativeModule(SPEC, info, source, grants)
}
