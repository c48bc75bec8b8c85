import type { WaferLogger } from '../logger.js'
import type { Exchange } from '../http/exchange.js'
import type { Decision } from '../http/decision.js'
import type { ModuleInfo } from '../runtime/wasm-binary.js'
import type { ResolvedLimits } from '../runtime/filter-options.js'
import type { KvStore } from '../state/store.js'

/** What validation learned about a module: which ABI, and which phases it implements. */
export interface AbiDescriptor {
  /** e.g. `wafer-native` */
  abi: string
  version: number
  request: boolean
  response: boolean
}

/** What a filter asked for when it was initialised (docs/abi.md section 4). */
export interface FilterNeeds {
  requestBody: boolean
  responseBody: boolean
  /** The instance said its request phase does nothing with this configuration: never called. */
  skipRequestPhase: boolean
  /** The same for the response phase. */
  skipResponsePhase: boolean
}

/** What the host lends one guest instance: identity for errors and logs, and the store. */
export interface GuestHost {
  /** The filter's name: prefixes its store keys, names it in logs and errors. */
  filter: string
  /** The module's file path (or `<bytes>`), for error messages. */
  source: string
  store: KvStore
  logger: WaferLogger
  /** What one call may take: fuel, memory, async wait, output size. */
  limits: Readonly<ResolvedLimits>
}

/**
 * One live instance of a guest module. The ABI glue implements this; the filter lifecycle
 * (runtime/filter.ts) owns pooling, failure handling and closing, whatever the ABI.
 */
export interface GuestInstance {
  /** Hands the filter its configuration; throws WAFER_ERR_FILTER_CONFIG if it is rejected. */
  init (config: Buffer): FilterNeeds
  onRequest (ex: Exchange, withBody: boolean): Decision | Promise<Decision>
  onResponse (ex: Exchange, withBody: boolean): Decision | Promise<Decision>
  /** False once the instance trapped or broke the ABI: the pool must discard it. */
  readonly healthy: boolean
}

/** A guest ABI: recognises, validates and instantiates modules that speak it. */
export interface GuestAbi {
  readonly id: string
  readonly version: number
  /** Throws a coded error naming `source` when the module does not fit this ABI. */
  /** `grants`: the capabilities the filter has (undefined: all); an import outside them is refused. */
  validate (info: ModuleInfo, source: string, grants?: readonly string[]): AbiDescriptor
  instantiate (module: WebAssembly.Module, info: ModuleInfo, host: GuestHost): GuestInstance
}
