import { waferError } from '../errors.js'
import { defaultBreakerOptions, type BreakerOptions } from './breaker.js'
import { defaultPoolOptions, type PoolOptions } from './pool.js'

export type FailurePolicy = 'fail-closed' | 'fail-open'

/** How a filter is declared: by the application, or (later) by a config file. */
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
}

export const CAPABILITY_NAMES = ['kv', 'log', 'clock', 'random', 'http'] as const
export type Capability = typeof CAPABILITY_NAMES[number]

export interface FilterLimits {
  /**
   * Fuel per phase (CPU): the module is instrumented at load to count the work it does, and a
   * request phase (or response phase) that uses more, summed over every guest entry of that
   * phase including resumes, traps. Default 50,000,000; `false` turns metering off.
   */
  fuel?: number | false
  /** Most 64 KiB pages of linear memory; growth past it fails inside the guest. */
  memoryPages?: number
  /**
   * Deadline of one phase of one request, in ms, from the moment the filter first waits on an
   * asynchronous host operation to its answer (all waits and resumes together). Default 10,000.
   */
  timeoutMs?: number
  /** Most `wafer_on_resume` entries in one phase of one request. Default 64. */
  maxResumes?: number
  /** Most bytes the host reads back from one `output`. Default 1 MiB. */
  maxOutputBytes?: number
}

export interface ResolvedLimits {
  fuel: number | undefined
  memoryPages: number | undefined
  timeoutMs: number
  maxResumes: number
  maxOutputBytes: number
}

export const defaultLimits = Object.freeze({ fuel: 50_000_000, timeoutMs: 10_000, maxResumes: 64, maxOutputBytes: 1024 * 1024 })

export interface ResolvedFilterOptions {
  name: string
  module: string | Uint8Array
  config: Buffer
  pool: Readonly<PoolOptions>
  failurePolicy: FailurePolicy
  limits: Readonly<ResolvedLimits>
  breaker: Readonly<BreakerOptions>
  capabilities: readonly Capability[] | undefined
}

/** Filter names prefix store keys (`name:key`), so they may not contain `:`. */
export const FILTER_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/
const KNOWN = ['module', 'config', 'pool', 'failurePolicy', 'limits', 'breaker', 'capabilities']
const POOL_KEYS = Object.keys(defaultPoolOptions)

function invalid (filter: string, message: string): never {
  throw waferError('WAFER_ERR_OPTIONS_INVALID', [`filter "${filter}": ${message}`])
}

export function resolveFilterOptions (name: string, options: FilterOptions): ResolvedFilterOptions {
  if (!FILTER_NAME.test(name)) {
    invalid(name, 'a filter name must be 1-64 characters of letters, digits, "_", "." or "-", starting with a letter or digit')
  }
  if (typeof options !== 'object' || options === null) invalid(name, `expected an object with "module", got ${JSON.stringify(options)}`)
  for (const key of Object.keys(options)) {
    if (!KNOWN.includes(key)) invalid(name, `unknown option "${key}"; known options: ${KNOWN.join(', ')}`)
  }
  const { module } = options
  if (!(typeof module === 'string' && module !== '') && !(module instanceof Uint8Array)) {
    invalid(name, '"module" must be a path to a .wasm file or a Uint8Array of its bytes')
  }
  let config: string | undefined
  try {
    config = JSON.stringify(options.config ?? {})
  } catch (err) {
    invalid(name, `"config" must be JSON-serialisable: ${(err as Error).message}`)
  }
  if (config === undefined) invalid(name, '"config" must be JSON-serialisable')
  const failurePolicy = options.failurePolicy ?? 'fail-closed'
  if (failurePolicy !== 'fail-closed' && failurePolicy !== 'fail-open') {
    invalid(name, `"failurePolicy" must be "fail-closed" or "fail-open", got ${JSON.stringify(failurePolicy)}`)
  }
  return Object.freeze({
    name,
    module,
    config: Buffer.from(config, 'utf8'),
    pool: resolvePool(name, options.pool ?? {}),
    failurePolicy,
    limits: resolveLimits(name, options.limits ?? {}),
    breaker: resolveBreaker(name, options.breaker ?? {}),
    capabilities: resolveCapabilities(name, options.capabilities)
  })
}

function resolveCapabilities (name: string, capabilities: readonly Capability[] | undefined): readonly Capability[] | undefined {
  if (capabilities === undefined) return undefined
  if (!Array.isArray(capabilities) || capabilities.some((c) => !(CAPABILITY_NAMES as readonly string[]).includes(c))) {
    invalid(name, `"capabilities" must be an array of ${CAPABILITY_NAMES.join(', ')}, got ${JSON.stringify(capabilities)}`)
  }
  return Object.freeze([...new Set(capabilities)])
}

function resolveBreaker (name: string, breaker: Partial<BreakerOptions>): Readonly<BreakerOptions> {
  if (typeof breaker !== 'object' || breaker === null) invalid(name, '"breaker" must be an object')
  for (const key of Object.keys(breaker)) {
    if (key !== 'failures' && key !== 'cooldownMs') invalid(name, `unknown option "breaker.${key}"; known: failures, cooldownMs`)
  }
  const resolved = { ...defaultBreakerOptions, ...breaker }
  if (!Number.isSafeInteger(resolved.failures) || resolved.failures < 0) invalid(name, `"breaker.failures" must be an integer >= 0 (0 turns it off), got ${JSON.stringify(breaker.failures)}`)
  if (!Number.isSafeInteger(resolved.cooldownMs) || resolved.cooldownMs < 1) invalid(name, `"breaker.cooldownMs" must be an integer >= 1, got ${JSON.stringify(breaker.cooldownMs)}`)
  return Object.freeze(resolved)
}

const LIMIT_RANGES: Record<keyof FilterLimits, [number, number]> = {
  fuel: [1000, Number.MAX_SAFE_INTEGER],
  memoryPages: [1, 65536],
  timeoutMs: [1, 2_147_483_647],
  maxResumes: [1, 1_000_000],
  maxOutputBytes: [1, 1024 * 1024 * 1024]
}

function resolveLimits (name: string, limits: FilterLimits): Readonly<ResolvedLimits> {
  if (typeof limits !== 'object' || limits === null) invalid(name, '"limits" must be an object')
  for (const [key, value] of Object.entries(limits)) {
    const range = LIMIT_RANGES[key as keyof FilterLimits]
    if (range === undefined) invalid(name, `unknown option "limits.${key}"; known: ${Object.keys(LIMIT_RANGES).join(', ')}`)
    if (key === 'fuel' && value === false) continue
    if (value !== undefined && (!Number.isSafeInteger(value) || value < range[0] || value > range[1])) {
      invalid(name, `"limits.${key}" must be an integer from ${range[0]} to ${range[1]}${key === 'fuel' ? ' or false' : ''}, got ${JSON.stringify(value)}`)
    }
  }
  return Object.freeze({
    fuel: limits.fuel === false ? undefined : limits.fuel ?? defaultLimits.fuel,
    memoryPages: limits.memoryPages,
    timeoutMs: limits.timeoutMs ?? defaultLimits.timeoutMs,
    maxResumes: limits.maxResumes ?? defaultLimits.maxResumes,
    maxOutputBytes: limits.maxOutputBytes ?? defaultLimits.maxOutputBytes
  })
}

function resolvePool (name: string, pool: Partial<PoolOptions>): Readonly<PoolOptions> {
  if (typeof pool !== 'object' || pool === null) invalid(name, '"pool" must be an object')
  for (const key of Object.keys(pool)) {
    if (!POOL_KEYS.includes(key)) invalid(name, `unknown option "pool.${key}"; known: ${POOL_KEYS.join(', ')}`)
  }
  const resolved = { ...defaultPoolOptions, ...pool }
  for (const key of POOL_KEYS as Array<keyof PoolOptions>) {
    const v = resolved[key]
    const min = key === 'max' || key === 'acquireTimeoutMs' ? 1 : 0
    if (!Number.isSafeInteger(v) || v < min) invalid(name, `"pool.${key}" must be an integer >= ${min}, got ${JSON.stringify(v)}`)
  }
  if (resolved.min > resolved.max) invalid(name, `"pool.min" (${resolved.min}) must not exceed "pool.max" (${resolved.max})`)
  return Object.freeze(resolved)
}
