import type { WaferLogger } from '../logger.js'
import type { Exchange } from '../http/exchange.js'
import type { Decision } from '../http/decision.js'
import type { ModuleInfo } from '../wasm/binary.js'
import type { ResolvedLimits } from '../wasm/limits.js'
import type { KvStore } from '../state/store.js'
import type { FilterStore } from './filter-store.js'
import type { ProxyWasmOptions } from './proxy-wasm/options.js'
import type { SharedQueues } from './proxy-wasm/queues.js'
import type { SharedData } from '../state/shared-data.js'
import type { FilterMetrics } from './proxy-wasm/metrics.js'

/** What validation learned about a module: which ABI, and which phases it implements. */
export interface AbiDescriptor {
  /** e.g. `wafer-native` */
  abi: string
  /** `2` for `wafer-native`; the module's own ABI version for Proxy-Wasm: `'0.2.1'`. */
  version: number | string
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
  /** The filter's name: names it in logs and errors (its store keys are prefixed by `kv`). */
  filter: string
  /** The module's file path (or `<bytes>`), for error messages. */
  source: string
  /** The store shared by every filter; address it with keys from `kv`. */
  store: KvStore
  /** This filter's namespace in the store: keys decoded from guest memory, prefixed, with the size limits. */
  kv: FilterStore
  logger: WaferLogger
  /** What one call may take: fuel, memory, async wait, output size. */
  limits: Readonly<ResolvedLimits>
  /** A Proxy-Wasm filter's own settings (the filter's `proxyWasm`); other ABIs ignore them. */
  proxyWasm?: Readonly<ProxyWasmOptions> | undefined
  /** The runtime's Proxy-Wasm shared queues (one registry per Wafer runtime). */
  queues?: SharedQueues | undefined
  /**
   * The runtime's Proxy-Wasm shared-data table (one per Wafer runtime, opened on the first call;
   * the store's own when it has one, so Redis shares it across processes).
   */
  sharedData?: (() => SharedData) | undefined
  /** This filter's Proxy-Wasm metrics, in the runtime's registry (they outlive reloads). */
  metrics?: FilterMetrics | undefined
  /**
   * An instance broke outside any request (a trap in a timer or another root callback): the
   * pool discards it now, if it is idle, and replaces it. A busy one is discarded when released.
   */
  discard?: ((instance: GuestInstance) => void) | undefined
}

/**
 * One live instance of a guest module. The ABI glue implements this; the filter lifecycle
 * (runtime/filter.ts) owns pooling, binding instances to requests, failure handling and closing,
 * whatever the ABI.
 *
 * For an ABI that binds an instance to a request (`GuestAbi#perRequest`), a request goes
 * `begin` -> its phases -> `done` on one instance: `begin` before its first phase, `done` exactly
 * once after `begin` was called (even if `begin` or a phase failed, and also when the instance is
 * no longer healthy: the glue must then not enter the guest, only drop what it holds for the
 * request). Per-phase ABIs get neither call.
 */
export interface GuestInstance {
  /** Hands the filter its configuration; throws WAFER_ERR_FILTER_CONFIG if it is rejected. */
  init (config: Buffer): FilterNeeds
  /** The instance now serves `ex` until `done` (per-request ABIs). May throw a coded error. */
  begin? (ex: Exchange): void
  onRequest (ex: Exchange, withBody: boolean): Decision | Promise<Decision>
  onResponse (ex: Exchange, withBody: boolean): Decision | Promise<Decision>
  /**
   * The request is over for this instance (per-request ABIs). A throw or a rejection is logged
   * with the filter's name; the instance goes back to the pool (discarded if no longer healthy).
   */
  done? (ex: Exchange): void | Promise<void>
  /**
   * The request's response closed (the client went away) while a phase of it waits: the glue
   * settles that phase now, without entering the guest; `done` follows.
   */
  abort? (ex: Exchange): void
  /** False once the instance trapped or broke the ABI: the pool must discard it. */
  readonly healthy: boolean
  /**
   * The pool discards the instance (it broke, was used up, or its filter closed): timers stop,
   * outstanding operations are cancelled, nothing calls into it again. Idempotent.
   */
  close? (): void
}

/**
 * What an ABI makes of a module's exports: `false`, not its module; `true`, it runs it; or a
 * refusal, a module that declares this ABI in a way the host does not run.
 */
export type AbiDetection = boolean | AbiRefusal

export interface AbiRefusal {
  /**
   * `version`: a version of this ABI the host does not run (or no longer runs), or several at
   * once (WAFER_ERR_ABI_VERSION); `unsupported`: an ABI the host recognises but does not run
   * yet (WAFER_ERR_ABI_UNSUPPORTED).
   */
  refused: 'version' | 'unsupported'
  /** What the module declares, as the error message says it: `version 9 (wafer_abi_version_9)`. */
  declared: string
}

/** Recognises the modules of one ABI by their exports (docs/abi.md section 8). */
export interface AbiDetector {
  readonly id: string
  /** How a module declares what this host runs, for messages: `wafer_abi_version_2`. */
  readonly marker: string
  /** Looks only at `info`: cheap, and never throws. */
  detect (info: ModuleInfo): AbiDetection
}

/** A guest ABI: recognises, validates and instantiates modules that speak it. */
export interface GuestAbi extends AbiDetector {
  readonly version: number | string
  /**
   * True: an instance keeps guest state for a request from its first phase to its end (Proxy-Wasm
   * does, from headers to `proxy_on_done`), so it stays bound to the request between phases and
   * gets `begin` and `done`. False: each phase acquires an instance and releases it at once.
   */
  readonly perRequest: boolean
  /**
   * True: an instance holds state beyond requests (Proxy-Wasm's root context, with its timers
   * and queues), so a filter keeps at least one alive whatever its `pool.min`, also when no
   * chain uses it (a service filter).
   */
  readonly resident?: boolean
  /**
   * The exports that start a new fuel budget (instantiation, configuration, each phase): a
   * metered module resets its counter on entering one of them, so the host makes no call to set
   * it per phase. Exports not listed (a resume) run on what is left (docs/abi.md section 6).
   */
  readonly budgetEntries: readonly string[]
  /**
   * Throws a coded error naming `source` when the module does not fit this ABI. `grants`: the
   * capabilities the filter has (undefined: all); an import outside them is refused.
   */
  validate (info: ModuleInfo, source: string, grants?: readonly string[]): AbiDescriptor
  instantiate (module: WebAssembly.Module, info: ModuleInfo, host: GuestHost): GuestInstance
}
