import { CAPABILITIES, configDefaults, NAME_PATTERN, type FAILURE_POLICIES } from '../config/defaults.js'
import { checkOptions } from '../config/validate-options.js'
import type { BreakerOptions } from './breaker.js'
import type { PoolOptions } from './pool.js'
import type { FilterLimits, ResolvedLimits } from '../wasm/limits.js'
import type { ProxyWasmOptions } from '../abi/proxy-wasm/options.js'

export type FailurePolicy = typeof FAILURE_POLICIES[number]

/** How a filter is declared: by the application, or by a config file (`toWaferFilters`); both are checked by one schema. */
export interface FilterOptions {
  /** Path to the `.wasm` file, or its bytes. */
  module: string | Uint8Array
  /** JSON configuration handed to the filter's `wafer_init`. Default `{}`. */
  config?: unknown
  /** Instance pool sizing. */
  pool?: Partial<PoolOptions>
  /**
   * What a request gets when this filter fails (traps, breaks the ABI, its store fails):
   * `fail-closed` (default) answers with a JSON error; `fail-open` skips the filter.
   */
  failurePolicy?: FailurePolicy
  /** What one call of this filter may take (docs/config.md, `limits`). */
  limits?: FilterLimits
  /** The circuit breaker: `{ failures: 5, cooldownMs: 10000 }` by default; `failures: 0` turns it off. */
  breaker?: Partial<BreakerOptions>
  /**
   * The host functions the filter may import: `kv`, `log`, `clock`, `random`, `http`.
   * Default: all of them. A module importing outside its grants fails to load.
   */
  capabilities?: readonly Capability[]
  /** A Proxy-Wasm filter's own settings: bodies, VM configuration, root and VM ids (docs/proxy-wasm.md). */
  proxyWasm?: ProxyWasmOptions
}

export const CAPABILITY_NAMES = CAPABILITIES
export type Capability = typeof CAPABILITY_NAMES[number]

export type { FilterLimits, ResolvedLimits }

export const defaultLimits = configDefaults.filter.limits

export interface ResolvedFilterOptions {
  name: string
  module: string | Uint8Array
  config: Buffer
  pool: Readonly<PoolOptions>
  failurePolicy: FailurePolicy
  limits: Readonly<ResolvedLimits>
  breaker: Readonly<BreakerOptions>
  capabilities: readonly Capability[] | undefined
  proxyWasm: Readonly<ProxyWasmOptions> | undefined
}

/** Filter names prefix store keys (`name:key`), so they may not contain `:`. */
export const FILTER_NAME = new RegExp(NAME_PATTERN)

/**
 * Validates filters (all of them, every problem at once) with the schema a config file's
 * filters use, and resolves them: defaults from configDefaults.filter, frozen. Runs when a
 * generation is built (load and reload), never per request.
 */
export function resolveFilters (filters: Readonly<Record<string, FilterOptions>>, where = 'filters'): ResolvedFilterOptions[] {
  checkOptions('filters', { filters }, where)
  return Object.entries(filters).map(([name, options]) => resolveChecked(name, options))
}

export function resolveFilterOptions (name: string, options: FilterOptions): ResolvedFilterOptions {
  return resolveFilters({ [name]: options })[0] as ResolvedFilterOptions
}

const d = configDefaults.filter

function resolveChecked (name: string, options: FilterOptions): ResolvedFilterOptions {
  const limits = options.limits ?? {}
  return Object.freeze({
    name,
    module: options.module,
    config: Buffer.from(JSON.stringify(options.config ?? d.config), 'utf8'),
    pool: fill(d.pool, options.pool),
    failurePolicy: options.failurePolicy ?? d.failurePolicy,
    limits: Object.freeze({
      fuel: limits.fuel === false ? undefined : limits.fuel ?? d.limits.fuel,
      memoryPages: limits.memoryPages,
      timeoutMs: limits.timeoutMs ?? d.limits.timeoutMs,
      maxResumes: limits.maxResumes ?? d.limits.maxResumes,
      maxOutputBytes: limits.maxOutputBytes ?? d.limits.maxOutputBytes
    }),
    breaker: fill(d.breaker, options.breaker),
    capabilities: options.capabilities === undefined ? undefined : Object.freeze([...options.capabilities]),
    proxyWasm: options.proxyWasm === undefined ? undefined : Object.freeze({ ...options.proxyWasm })
  })
}

/** The defaults with the given values over them; an undefined value counts as absent, as in JSON. */
function fill<T extends object> (defaults: Readonly<T>, given: Partial<T> | undefined): Readonly<T> {
  const out = { ...defaults }
  for (const [key, value] of Object.entries(given ?? {})) if (value !== undefined) (out as Record<string, unknown>)[key] = value
  return Object.freeze(out)
}
