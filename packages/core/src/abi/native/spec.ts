import type { ModuleInfo } from '../../wasm/binary.js'
import type { AbiDescriptor } from '../types.js'
import { checkNativeModule, sig, type NativeSpec } from './check-module.js'

export { ABI_ID, IMPORT_MODULE } from './check-module.js'

/** The native ABI, version 2: docs/abi.md sections 2 and 4. */
export const EXPORTS = {
  wafer_abi_version_2: sig([], []),
  wafer_init: sig(['i32'], ['i32']),
  wafer_on_request: sig([], ['i32']),
  wafer_on_response: sig([], ['i32']),
  wafer_on_resume: sig(['i32'], ['i32']),
  _start: sig([], []),
  _initialize: sig([], [])
} as const

const PTR = 'i32' as const

export const IMPORTS = {
  config_read: sig([PTR, 'i32'], ['i32']),
  init_reject: sig([PTR, 'i32'], ['i32']),
  get: sig(['i32', PTR, 'i32'], ['i32']),
  set: sig(['i32', PTR, 'i32'], ['i32']),
  status_get: sig([], ['i32']),
  status_set: sig(['i32'], ['i32']),
  header_get: sig(['i32', PTR, 'i32', PTR, 'i32'], ['i32']),
  header_values: sig(['i32', PTR, 'i32', PTR, 'i32'], ['i32']),
  header_names: sig(['i32', PTR, 'i32'], ['i32']),
  header_set: sig(['i32', PTR, 'i32', PTR, 'i32'], ['i32']),
  header_add: sig(['i32', PTR, 'i32', PTR, 'i32'], ['i32']),
  header_remove: sig(['i32', PTR, 'i32'], ['i32']),
  respond: sig(['i32', PTR, 'i32'], ['i32']),
  log: sig(['i32', PTR, 'i32'], ['i32']),
  now_ms: sig([], ['f64']),
  random_fill: sig([PTR, 'i32'], ['i32']),
  kv_get: sig([PTR, 'i32', PTR, 'i32', PTR], ['i32']),
  kv_set: sig([PTR, 'i32', PTR, 'i32', 'i32', PTR], ['i32']),
  kv_incr: sig([PTR, 'i32', 'i32', 'i32', PTR], ['i32']),
  kv_del: sig([PTR, 'i32', PTR], ['i32'])
} as const

export type ImportName = keyof typeof IMPORTS

/** The capability a filter must be granted to import each function; the rest are the ABI itself. */
export const IMPORT_CAPABILITY: Partial<Record<ImportName, string>> = {
  log: 'log',
  now_ms: 'clock',
  random_fill: 'random',
  kv_get: 'kv',
  kv_set: 'kv',
  kv_incr: 'kv',
  kv_del: 'kv'
}

const SPEC: NativeSpec = {
  version: 2,
  exports: EXPORTS,
  required: [],
  imports: IMPORTS,
  capability: IMPORT_CAPABILITY,
  asyncImports: ['kv_get', 'kv_set', 'kv_incr', 'kv_del']
}

export function validateNative (info: ModuleInfo, source: string, grants?: readonly string[]): AbiDescriptor {
  return checkNativeModule(SPEC, info, source, grants)
}

/**
 * The exports that start a fuel budget (docs/abi.md section 6): instantiation, `wafer_init` and
 * each phase of a request. Not `wafer_on_resume`: it runs on what is left of its phase's budget.
 * Instrumented with these as budget entries, a module resets its counter on entry by itself.
 */
export const NATIVE_BUDGET_ENTRIES: readonly string[] = ['_initialize', '_start', 'wafer_init', 'wafer_on_request', 'wafer_on_response']
