import type { FuncType, ModuleInfo } from '../../wasm/binary.js'
import { ENV_MODULE, declaredVersion, moduleVersion } from './check-module.js'
import { ENV_EXTRAS, PROXY_CALLS, Status, type Support } from './spec.js'
import { WASI_CALLS, WASI_MODULE, WASI_UNSTABLE } from './wasi.js'

/**
 * How Wafer answers one import of a Proxy-Wasm module: the support level spec.ts gives it;
 * `unknown` when the host does not provide it at all, `bad signature` when it does with another
 * signature (both refused when the module loads).
 */
export interface ProxyImportSupport {
  module: string
  name: string
  support: Support | 'unknown' | 'bad signature'
  /** For a call Wafer does not implement: the status every call gets, e.g. `UNIMPLEMENTED`. */
  answer?: string
  /** The capability a filter needs to import it. */
  capability?: string
}

/** What `wafer inspect` says about a Proxy-Wasm module beyond its ABI check. */
export interface ProxyWasmDescription {
  /** `0.2.1`, `0.2.0` or `0.1.0`. */
  version: string
  /** False for an ABI 0.1.0 module without a version marker, recognised by its signatures. */
  marked: boolean
  imports: ProxyImportSupport[]
}

const STATUS_NAMES: Readonly<Record<number, string>> = {
  [Status.Ok]: 'OK',
  [Status.NotFound]: 'NOT_FOUND',
  [Status.BadArgument]: 'BAD_ARGUMENT',
  [Status.SerializationFailure]: 'SERIALIZATION_FAILURE',
  [Status.ParseFailure]: 'PARSE_FAILURE',
  [Status.InvalidMemoryAccess]: 'INVALID_MEMORY_ACCESS',
  [Status.Empty]: 'EMPTY',
  [Status.CasMismatch]: 'CAS_MISMATCH',
  [Status.InternalFailure]: 'INTERNAL_FAILURE',
  [Status.Unimplemented]: 'UNIMPLEMENTED'
}

const same = (a: FuncType, b: FuncType | undefined): boolean => b !== undefined &&
  a.params.length === b.params.length && a.results.length === b.results.length &&
  a.params.every((p, i) => p === b.params[i]) && a.results.every((r, i) => r === b.results[i])

/** One import as the host would answer it (spec.ts PROXY_CALLS, ENV_EXTRAS; wasi.ts WASI_CALLS). */
function importSupport (imp: ModuleInfo['imports'][number]): ProxyImportSupport {
  const base = { module: imp.module, name: imp.name }
  if (imp.kind !== 'function') return { ...base, support: 'unknown' }
  let offer: { sigs: readonly FuncType[], support: Support, answer?: Status | undefined, capability?: string | undefined } | undefined
  if (imp.module === ENV_MODULE) {
    const extra = ENV_EXTRAS[imp.name]
    offer = PROXY_CALLS[imp.name] ?? (extra === undefined ? undefined : { sigs: [extra], support: 'supported' })
  } else if (imp.module === WASI_MODULE || imp.module === WASI_UNSTABLE) {
    const call = WASI_CALLS[imp.name]
    offer = call === undefined ? undefined : { sigs: [call.sig], support: call.support, capability: call.capability }
  }
  if (offer === undefined) return { ...base, support: 'unknown' }
  if (!offer.sigs.some((s) => same(s, imp.type))) return { ...base, support: 'bad signature' }
  return {
    ...base,
    support: offer.support,
    ...(offer.answer === undefined ? {} : { answer: STATUS_NAMES[offer.answer] ?? String(offer.answer) }),
    ...(offer.capability === undefined ? {} : { capability: offer.capability })
  }
}

/**
 * The Proxy-Wasm version of a module and how Wafer answers each of its imports, or undefined
 * when it is not a Proxy-Wasm module this host runs. Works on modules validation refuses too
 * (an unknown import), so `wafer inspect` can say which import is the problem.
 */
export function describeProxyWasm (info: ModuleInfo): ProxyWasmDescription | undefined {
  const version = moduleVersion(info)
  if (version === undefined) return undefined
  return {
    version: version.replaceAll('_', '.'),
    marked: declaredVersion(info) !== undefined,
    imports: info.imports.map(importSupport)
  }
}
