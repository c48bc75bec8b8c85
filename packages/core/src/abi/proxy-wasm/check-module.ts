import { waferError } from '../../errors.js'
import { formatSignature, type FuncType, type ModuleInfo } from '../../wasm/binary.js'
import type { AbiDescriptor, AbiDetection } from '../types.js'
import { ABI_ID, CALLBACKS, ENV_EXTRAS, PROXY_CALLS, V010_HEADERS, VERSIONS, type AbiVersion } from './spec.js'
import { WASI_CALLS, WASI_MODULE, WASI_UNSTABLE } from './wasi.js'

const MARKER = /^proxy_abi_version_(\d+)_(\d+)_(\d+)$/
export const ENV_MODULE = 'env'

/** The ABI version a module declares by its marker export, if it is one this host runs. */
export function declaredVersion (info: ModuleInfo): AbiVersion | undefined {
  for (const e of info.exports) {
    const m = MARKER.exec(e.name)
    if (m !== null) return VERSIONS.find((v) => v === `${m[1]}_${m[2]}_${m[3]}`)
  }
  return undefined
}

/** The version a module runs as: its marker's, or 0.1.0 for an unmarked 0.1.0 module. */
export function moduleVersion (info: ModuleInfo): AbiVersion | undefined {
  return declaredVersion(info) ?? (unmarkedV010(info) ? '0_1_0' : undefined)
}

/**
 * Whether a module without a version marker is an ABI 0.1.0 module, as older Istio builds
 * (Envoy's Wasm before the markers) made them. The cpp-host decides by the marker alone and
 * refuses a module without one; Wafer runs these too, and to claim no module that merely has a
 * `proxy_` name it asks for everything such a module has: a memory; an allocator (`malloc` or
 * `proxy_on_memory_allocate`) and `proxy_on_context_create` with their signatures; every
 * `proxy_on_*` callback it exports with its 0.1.0 signature (headers callbacks without
 * `end_of_stream`) and at least one of the callbacks a filter is configured or called by; and at
 * least one Proxy-Wasm host call imported from `env` with its signature.
 */
export function unmarkedV010 (info: ModuleInfo): boolean {
  if (info.exports.some((e) => MARKER.test(e.name))) return false
  let memory = false
  let allocator = false
  let create = false
  let entry = false
  for (const e of info.exports) {
    if (e.kind === 'memory' && e.name === 'memory') memory = true
    const expected = callbackType(e.name, '0_1_0')
    if (expected === undefined) continue
    if (e.kind !== 'function' || e.type === undefined || !sameType(e.type, expected)) return false
    if (e.name === 'malloc' || e.name === 'proxy_on_memory_allocate') allocator = true
    else if (e.name === 'proxy_on_context_create') create = true
    else if (V010_ENTRIES.has(e.name)) entry = true
  }
  return memory && allocator && create && entry && info.imports.some((imp) => {
    const call = imp.module === ENV_MODULE && imp.kind === 'function' ? PROXY_CALLS[imp.name] : undefined
    return call !== undefined && imp.type !== undefined && call.sigs.some((s) => sameType(s, imp.type as FuncType))
  })
}

/** The callbacks that make a module a filter: one of them must be there for an unmarked module. */
const V010_ENTRIES = new Set(['proxy_on_vm_start', 'proxy_on_configure', 'proxy_on_request_headers', 'proxy_on_response_headers', 'proxy_on_tick', 'proxy_on_queue_ready'])

/**
 * A Proxy-Wasm module exports exactly one `proxy_abi_version_<major>_<minor>_<patch>` marker,
 * or none and everything an ABI 0.1.0 module has (`unmarkedV010`).
 */
export function detectProxyWasm (info: ModuleInfo): AbiDetection {
  const found: string[] = []
  for (const e of info.exports) {
    const m = MARKER.exec(e.name)
    if (m !== null) found.push(`${m[1]}.${m[2]}.${m[3]}`)
  }
  if (found.length === 0) return unmarkedV010(info)
  if (found.length > 1) return { refused: 'version', declared: `Proxy-Wasm ABIs ${found.join(' and ')} at once` }
  const v = found[0] as string
  if (VERSIONS.some((known) => known === v.replaceAll('.', '_'))) return true
  return { refused: 'version', declared: `Proxy-Wasm ABI ${v} (proxy_abi_version_${v.replaceAll('.', '_')})` }
}

function sameType (a: FuncType, b: FuncType): boolean {
  return a.params.length === b.params.length && a.results.length === b.results.length &&
    a.params.every((p, i) => p === b.params[i]) && a.results.every((r, i) => r === b.results[i])
}

/** What the host provides for one import, if anything: the signatures it accepts and the capability it needs. */
function provided (module: string, name: string): { sigs: readonly FuncType[], capability?: string | undefined } | undefined {
  if (module === ENV_MODULE) {
    const call = PROXY_CALLS[name]
    if (call !== undefined) return call
    const extra = ENV_EXTRAS[name]
    return extra === undefined ? undefined : { sigs: [extra] }
  }
  if (module === WASI_MODULE || module === WASI_UNSTABLE) {
    const call = WASI_CALLS[name]
    return call === undefined ? undefined : { sigs: [call.sig], capability: call.capability }
  }
  return undefined
}

/** The callback signature the host calls `name` with, for a module of `version`. */
export function callbackType (name: string, version: AbiVersion): FuncType | undefined {
  if (version === '0_1_0' && (name === 'proxy_on_request_headers' || name === 'proxy_on_response_headers')) return V010_HEADERS
  return CALLBACKS[name]?.sig
}

/**
 * Checks a module against the tables in spec.ts before anything runs: a memory, an allocator
 * for what the host hands the guest, the signatures of the callbacks the host will call, and
 * every import. Imports the host does not provide are listed all at once.
 */
export function validateProxyWasm (info: ModuleInfo, source: string, grants?: readonly string[]): AbiDescriptor {
  const version = moduleVersion(info) as AbiVersion
  const exports = new Map(info.exports.map((e) => [e.name, e]))
  const memory = exports.get('memory')
  if (memory === undefined || memory.kind !== 'memory') {
    throw waferError('WAFER_ERR_ABI_MISSING_EXPORT', [source, '"memory"', 'an exported linear memory named "memory"'])
  }
  for (const [name, e] of exports) {
    const expected = callbackType(name, version)
    if (expected === undefined) continue
    if (e.kind !== 'function' || e.type === undefined || !sameType(e.type, expected)) {
      throw waferError('WAFER_ERR_ABI_BAD_SIGNATURE', [source, `export "${name}"`, e.kind === 'function' ? formatSignature(e.type) : `a ${e.kind}`, `a function ${formatSignature(expected)}`])
    }
  }
  if (!exports.has('malloc') && !exports.has('proxy_on_memory_allocate')) {
    throw waferError('WAFER_ERR_ABI_MISSING_EXPORT', [source, '"proxy_on_memory_allocate" or "malloc"', `a function ${formatSignature(CALLBACKS.malloc?.sig)} that allocates the memory the host hands the guest`])
  }
  const missing: string[] = []
  for (const imp of info.imports) {
    const what = `"${imp.module}"."${imp.name}"`
    const offer = imp.kind === 'function' ? provided(imp.module, imp.name) : undefined
    if (offer === undefined) {
      missing.push(imp.kind === 'function' ? what : `${what} (a ${imp.kind})`)
      continue
    }
    if (imp.type === undefined || !offer.sigs.some((s) => sameType(s, imp.type as FuncType))) {
      throw waferError('WAFER_ERR_ABI_BAD_SIGNATURE', [source, `import ${what}`, formatSignature(imp.type), `a function ${offer.sigs.map(formatSignature).join(' or ')}`])
    }
    if (grants !== undefined && offer.capability !== undefined && !grants.includes(offer.capability)) {
      throw waferError('WAFER_ERR_CAPABILITY_DENIED', [source, what, offer.capability, grants.length === 0 ? '(none)' : grants.join(', ')])
    }
  }
  if (missing.length > 0) {
    throw waferError('WAFER_ERR_ABI_UNKNOWN_IMPORT', [source, missing.join(', '),
      `a Proxy-Wasm ABI ${version.replaceAll('_', '.')} module may import the proxy_* host calls from "${ENV_MODULE}" and WASI preview 1 from "${WASI_MODULE}" (docs/proxy-wasm.md lists them)`])
  }
  return {
    abi: ABI_ID,
    version: version.replaceAll('_', '.'),
    request: true,
    response: exports.has('proxy_on_response_headers')
  }
}
