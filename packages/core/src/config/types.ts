import type { FailurePolicy, FilterLimits } from '../runtime/filter-options.js'
import type { PoolOptions } from '../runtime/pool.js'
import type { ProxyWasmOptions } from '../abi/proxy-wasm/options.js'
import type { CAPABILITIES, HTTP_METHODS, LOG_LEVELS, MATCH_TYPES } from './defaults.js'

export type LogLevel = typeof LOG_LEVELS[number]
export type Capability = typeof CAPABILITIES[number]
export type RouteMatchType = typeof MATCH_TYPES[number]
export type HttpMethod = typeof HTTP_METHODS[number]

/** What one call of a filter may take: the same type in a config file as in createWafer's options. */
export type { FilterLimits }

// ---- The config file as written: everything optional that the file may omit. ----

/** A chain entry: a filter name, or the long form. */
export type ChainEntryConfig = string | {
  filter: string
  /** Default true; false drops the entry. */
  enabled?: boolean
  /** Replaces the filter's config for this use (which becomes a derived filter). */
  config?: unknown
}

export interface FilterConfig {
  /** Path to the .wasm file, relative to the config file's directory unless absolute. */
  module: string
  config?: unknown
  pool?: Partial<PoolOptions>
  failurePolicy?: FailurePolicy
  limits?: FilterLimits
  breaker?: { failures?: number, cooldownMs?: number }
  capabilities?: Capability[]
  proxyWasm?: ProxyWasmOptions
}

export interface RouteConfig {
  match: {
    path: string
    type?: RouteMatchType
    methods?: HttpMethod[]
    host?: string
  }
  /** A chain name or an inline list of entries; omitted means no filters. */
  chain?: string | ChainEntryConfig[]
  /** An http(s) URL. Exactly one of `upstream` and `respond`. */
  upstream?: string
  timeoutMs?: number
  respond?: { status?: number, headers?: Record<string, string>, body?: string }
}

/** A Wafer gateway config file (YAML or JSON), as written. */
export interface GatewayConfig {
  /** Lets editors find the schema; ignored. */
  $schema?: string
  version?: 1
  server?: {
    host?: string
    port?: number
    bodyLimit?: number
    headerLimit?: number
    logger?: { level?: LogLevel }
    shutdownTimeoutMs?: number
  }
  admin?: {
    enabled?: boolean
    host?: string
    port?: number
    /** The bearer token POST /_wafer/reload needs: the token, or `{ env }` naming the variable that holds it. */
    token?: string | { env: string }
  }
  reload?: { watch?: boolean, debounceMs?: number, drainTimeoutMs?: number }
  state?: { memory?: { maxKeys?: number }, redis?: { url: string, keyPrefix?: string, timeoutMs?: number, sharedDataTimeoutMs?: number } }
  filters: Record<string, FilterConfig>
  chains?: Record<string, ChainEntryConfig[]>
  routes?: RouteConfig[]
}

// ---- The resolved config: defaults filled, paths absolute, chains flattened; frozen. ----

/**
 * A filter: what `createWafer({ filters })` takes (`toWaferFilters()` converts it), sandbox
 * settings (`limits`, `capabilities`) included; the runtime enforces them on every load path.
 */
export interface ResolvedFilter {
  /** Absolute path to the .wasm file. */
  readonly module: string
  readonly config: unknown
  /** As written; the runtime fills the rest from its defaults. Absent when not written. */
  readonly pool?: Readonly<Partial<PoolOptions>>
  readonly failurePolicy: FailurePolicy
  /** Enforced per call (fuel, memory, deadline, output size). Absent when not written. */
  readonly limits?: Readonly<FilterLimits>
  readonly breaker?: Readonly<{ failures?: number, cooldownMs?: number }>
  /** Imports the module may use, checked when it loads. Absent when not written: all granted. */
  readonly capabilities?: readonly Capability[]
  /** A Proxy-Wasm filter's own settings. Absent when not written. */
  readonly proxyWasm?: Readonly<ProxyWasmOptions>
}

export interface ResolvedRoute {
  /** Position in the file's `routes`, for messages and derived filter names. */
  readonly index: number
  readonly match: {
    readonly path: string
    readonly type: RouteMatchType
    /** `undefined`: every method. */
    readonly methods: HttpMethod[] | undefined
    /** Lower case; `undefined`: any host. */
    readonly host: string | undefined
  }
  /** Filter names in order (derived names included), possibly empty. */
  readonly chain: string[]
  /** The named chain used, or `undefined` for an inline chain or none. */
  readonly chainName: string | undefined
  readonly upstream?: { readonly url: string, readonly timeoutMs: number }
  readonly respond?: { readonly status: number, readonly headers: Readonly<Record<string, string>>, readonly body: string }
}

export interface ResolvedConfig {
  /** Absolute path of the file, or `"<object>"`. */
  readonly source: string
  readonly version: 1
  readonly server: {
    readonly host: string
    readonly port: number
    readonly bodyLimit: number
    readonly headerLimit: number
    readonly logLevel: LogLevel
    readonly shutdownTimeoutMs: number
  }
  readonly admin: {
    readonly enabled: boolean
    readonly host: string
    readonly port: number
    /** As written: the token, or `{ env }` (read by `wafer serve` at startup). Absent when not written. */
    readonly token?: string | { readonly env: string }
  }
  readonly reload: { readonly watch: boolean, readonly debounceMs: number, readonly drainTimeoutMs: number }
  /** Where filters keep state; read at startup only (a reload does not change it). */
  readonly state: { readonly kind: 'memory', readonly maxKeys: number } | { readonly kind: 'redis', readonly url: string, readonly keyPrefix: string, readonly timeoutMs: number, readonly sharedDataTimeoutMs: number }
  /** Declared and derived filters, by name; `toWaferFilters()` gives what `createWafer` takes. */
  readonly filters: Readonly<Record<string, ResolvedFilter>>
  /** Named chains, flattened to filter names; disabled entries dropped. */
  readonly chains: Readonly<Record<string, string[]>>
  readonly routes: readonly ResolvedRoute[]
}
