import type { WaferLogger } from '../logger.js'
import { selectAbi } from '../abi/index.js'
import { FilterStore } from '../abi/filter-store.js'
import type { AbiDescriptor, FilterNeeds, GuestInstance } from '../abi/types.js'
import type { SharedQueues } from '../abi/proxy-wasm/queues.js'
import { describe, waferError } from '../errors.js'
import type { Exchange } from '../http/exchange.js'
import { CONTINUE, type Decision } from '../http/decision.js'
import type { KvStore } from '../state/store.js'
import type { FailurePolicy, ResolvedFilterOptions } from './filter-options.js'
import type { ModuleCache, ModuleTransform } from './module-cache.js'
import type { FilterCallEvent, WaferObserver } from './observer.js'
import { readModuleSource } from './module-cache.js'
import { Breaker, type BreakerStatus } from './breaker.js'
import { InstancePool, type Lease, type PoolStats } from './pool.js'
import { Binding, type RequestBindings } from './request-binding.js'
import type { ProxyState } from './proxy-state.js'

export interface FilterContext {
  cache: ModuleCache
  store: KvStore
  logger: WaferLogger
  observer?: WaferObserver | undefined
  /** The runtime's Proxy-Wasm shared data and metrics. */
  proxy?: ProxyState | undefined
  /** The runtime's Proxy-Wasm shared queues. */
  queues?: SharedQueues | undefined
}

export type FilterState = 'ready' | 'closed'

export interface FilterStatus {
  name: string
  source: string
  sha256: string
  size: number
  abi: string
  state: FilterState
  needs: FilterNeeds
  failurePolicy: FailurePolicy
  calls: number
  failures: number
  lastError: { code: string, message: string, at: string } | undefined
  /** Failures by reason class (trap, fuel, memory, deadline, abi, state, ...). */
  failuresByReason: Record<string, number>
  breaker: BreakerStatus
  pool: PoolStats
}

type Phase = 'request' | 'response'

/**
 * One configured filter: load (read, compile, validate the ABI) -> configure (instantiate the
 * warm pool, each instance initialised with the config) -> per-request context (phases, then
 * done) -> close. Whatever the ABI, this class owns the lifecycle; the ABI only supplies
 * instances, and says whether one stays bound to a request from its first phase to done
 * (`perRequest`) or serves a single phase.
 */
export class Filter {
  readonly name: string
  readonly source: string
  readonly sha256: string
  readonly size: number
  readonly abi: AbiDescriptor
  readonly needs: FilterNeeds
  /** Exported, and not skipped by the instance for this configuration. Fixed at load; read per request. */
  readonly hasRequestPhase: boolean
  readonly hasResponsePhase: boolean
  /** An instance stays bound to a request from its first phase to `end` (docs/abi.md section 8). */
  readonly perRequest: boolean
  readonly failurePolicy: FailurePolicy
  /** Module hash plus settings: two filters with the same fingerprint behave the same. */
  readonly fingerprint: string
  #state: FilterState = 'ready'
  readonly #pool: InstancePool<GuestInstance>
  #calls = 0
  #failures = 0
  #lastError: FilterStatus['lastError']
  readonly #failuresByReason: Record<string, number> = {}
  readonly #breaker: Breaker
  readonly #observer: WaferObserver | undefined

  private constructor (options: ResolvedFilterOptions, source: string, sha256: string, size: number,
    abi: AbiDescriptor, perRequest: boolean, pool: InstancePool<GuestInstance>, needs: FilterNeeds, observer: WaferObserver | undefined) {
    this.name = options.name
    this.source = source
    this.sha256 = sha256
    this.size = size
    this.abi = abi
    this.perRequest = perRequest
    this.failurePolicy = options.failurePolicy
    this.fingerprint = filterFingerprint(sha256, options)
    this.#breaker = new Breaker(options.breaker)
    this.#pool = pool
    this.needs = needs
    this.hasRequestPhase = abi.request && !needs.skipRequestPhase
    this.hasResponsePhase = abi.response && !needs.skipResponsePhase
    this.#observer = observer?.onFilterCall === undefined ? undefined : observer
  }

  /**
   * Loads and configures a filter. `read` may pass bytes already read (a reload hashes them
   * first to decide whether the filter changed at all).
   */
  static async load (options: ResolvedFilterOptions, ctx: FilterContext, read?: { bytes: Uint8Array, source: string }): Promise<Filter> {
    const { bytes, source } = read ?? await readModuleSource(options.module)
    // The ABI, imports and capabilities are checked on the module as given, before the sandbox
    // instrumentation that can take seconds: a refused module is refused in milliseconds.
    const original = await ctx.cache.compile(bytes, source)
    const guestAbi = selectAbi(original.info, source)
    const abi = guestAbi.validate(original.info, source, options.capabilities)
    ctx.proxy?.prepare(original.info)
    const transform = sandboxTransform(options, ctx.logger, source, bytes.length, guestAbi.budgetEntries)
    const compiled = transform === undefined ? original : await ctx.cache.compile(bytes, source, transform)
    // A remote shared-data table (Redis) must answer before the first instance is configured: root
    // contexts read and create shared data in proxy_on_vm_start / proxy_on_configure, as on Envoy.
    await ctx.proxy?.settle()
    const host = { filter: options.name, source, store: ctx.store, kv: new FilterStore(options.name), logger: ctx.logger.child({ filter: options.name }), limits: options.limits, proxyWasm: options.proxyWasm, sharedData: ctx.proxy?.sharedData, metrics: ctx.proxy?.metrics.forFilter(options.name), queues: ctx.queues, discard: (i: GuestInstance) => { pool.evict(i) } }
    let needs: FilterNeeds | undefined
    const pool = new InstancePool<GuestInstance>(options.name, () => {
      const instance = guestAbi.instantiate(compiled.module, compiled.info, host)
      const got = instance.init(options.config)
      needs ??= got
      return instance
    }, guestAbi.resident === true && options.pool.min === 0 ? { ...options.pool, min: 1 } : options.pool)
    // Configure: at least one instance proves the module instantiates and accepts its config.
    const first = pool.acquire() as Lease<GuestInstance>
    pool.release(first)
    pool.warm()
    return new Filter(options, source, compiled.sha256, compiled.size, abi, guestAbi.perRequest, pool, needs as FilterNeeds, ctx.observer)
  }

  get state (): FilterState {
    return this.#state
  }

  /**
   * Runs the request phase. A per-request filter keeps its instance in `bindings` at `slot` (the
   * chain passes them) until `end`; called without them, the instance serves this phase only.
   */
  request (ex: Exchange, bindings?: RequestBindings, slot = 0): Decision | Promise<Decision> {
    return this.#run(ex, 'request', bindings, slot)
  }

  response (ex: Exchange, bindings?: RequestBindings, slot = 0): Decision | Promise<Decision> {
    return this.#run(ex, 'response', bindings, slot)
  }

  /**
   * The request is over for this filter (the chain calls it once per binding): `done` runs now,
   * or when the phase in progress settles, and the instance goes back to the pool. Never throws.
   */
  end (binding: Binding, ex: Exchange): void {
    if (binding.ended) return
    binding.ended = true
    // A phase still waiting (a paused Proxy-Wasm request) settles now; done follows.
    if (!binding.running) this.#done(binding, ex)
    else binding.lease.instance.abort?.(ex)
  }

  /** Records a failure for status and the breaker; the chain applies the failure policy. */
  recordFailure (err: unknown): void {
    const code = (err as { code?: unknown }).code
    const reason = failureReason(typeof code === 'string' ? code : undefined)
    this.#failuresByReason[reason] = (this.#failuresByReason[reason] ?? 0) + 1
    // A call the breaker refused is not a new failure of the filter.
    if (reason === 'circuit-open') return
    this.#failures++
    this.#breaker.failure()
    this.#lastError = { code: typeof code === 'string' ? code : 'ERROR', message: describe(err), at: new Date().toISOString() }
  }

  status (): FilterStatus {
    return {
      name: this.name,
      source: this.source,
      sha256: this.sha256,
      size: this.size,
      abi: `${this.abi.abi}/${this.abi.version}`,
      state: this.#state,
      needs: { ...this.needs },
      failurePolicy: this.failurePolicy,
      calls: this.#calls,
      failures: this.#failures,
      lastError: this.#lastError,
      failuresByReason: { ...this.#failuresByReason },
      breaker: this.#breaker.status(),
      pool: this.#pool.stats()
    }
  }

  /** Stops handing out instances; requests holding one finish normally. */
  close (): void {
    this.#state = 'closed'
    this.#pool.close()
  }

  #run (ex: Exchange, phase: Phase, bindings: RequestBindings | undefined, slot: number): Decision | Promise<Decision> {
    if (this.#observer !== undefined) return this.#observed(ex, phase, bindings, slot)
    return this.#acquireAndCall(ex, phase, bindings, slot)
  }

  #acquireAndCall (ex: Exchange, phase: Phase, bindings: RequestBindings | undefined, slot: number): Decision | Promise<Decision> {
    if (this.perRequest) return this.#callBound(ex, phase, bindings, slot)
    this.#admit(false)
    const lease = this.#pool.acquire()
    if (lease instanceof Promise) return lease.then((l) => this.#call(l, ex, phase))
    return this.#call(lease, ex, phase)
  }

  /**
   * Counts a call the filter takes; throws when its breaker is open, or when it is closed and
   * the request does not already hold an instance (one that does keeps it to the end).
   */
  #admit (held: boolean): void {
    if (!held && this.#state === 'closed') throw waferError('WAFER_ERR_FILTER_CLOSED', [this.name], { filter: this.name })
    if (!this.#breaker.allow()) {
      throw waferError('WAFER_ERR_CIRCUIT_OPEN', [this.name, this.#breaker.status().consecutiveFailures, this.#breaker.retryInMs()], { filter: this.name })
    }
    this.#calls++
  }

  #observed (ex: Exchange, phase: Phase, bindings: RequestBindings | undefined, slot: number): Decision | Promise<Decision> {
    const start = performance.now()
    const report = (outcome: FilterCallEvent['outcome'], err?: unknown): void => {
      const event: FilterCallEvent = { filter: this.name, phase, outcome, durationMs: performance.now() - start }
      if (err !== undefined) {
        const code = (err as { code?: unknown }).code
        event.errorCode = typeof code === 'string' ? code : 'WAFER_ERR_INTERNAL'
      }
      try {
        this.#observer?.onFilterCall?.(event)
      } catch (observerError) {
        ex.log.error({ err: observerError, filter: this.name }, 'a WaferObserver threw; ignored')
      }
    }
    let result: Decision | Promise<Decision>
    try {
      result = this.#acquireAndCall(ex, phase, bindings, slot)
    } catch (err) {
      report('error', err)
      throw err
    }
    if (result instanceof Promise) {
      return result.then(
        (d) => { report(outcomeOf(d)); return d },
        (err: unknown) => { report('error', err); throw err }
      )
    }
    report(outcomeOf(result))
    return result
  }

  #call (lease: Lease<GuestInstance>, ex: Exchange, phase: Phase): Decision | Promise<Decision> {
    let result: Decision | Promise<Decision>
    try {
      result = phase === 'request'
        ? lease.instance.onRequest(ex, this.needs.requestBody)
        : lease.instance.onResponse(ex, this.needs.responseBody)
    } catch (err) {
      this.#pool.release(lease)
      throw err
    }
    if (result instanceof Promise) {
      return result.then(
        (d) => { this.#pool.release(lease); this.#breaker.success(); return d },
        (err: unknown) => { this.#pool.release(lease); throw err }
      )
    }
    this.#pool.release(lease)
    this.#breaker.success()
    return result
  }

  /** A phase of a per-request filter: on the instance the request holds, or on one bound now. */
  #callBound (ex: Exchange, phase: Phase, bindings: RequestBindings | undefined, slot: number): Decision | Promise<Decision> {
    const held = bindings?.slots[slot]
    if (held === undefined) {
      this.#admit(false)
      const lease = this.#pool.acquire()
      if (lease instanceof Promise) return lease.then((l) => this.#bind(l, ex, phase, bindings, slot))
      return this.#bind(lease, ex, phase, bindings, slot)
    }
    // Its context ended early (the instance broke, and that failure was handled then; or the
    // request is over): nothing more runs for it.
    if (held.ended) return CONTINUE
    this.#admit(true)
    return this.#phase(held, ex, phase)
  }

  #bind (lease: Lease<GuestInstance>, ex: Exchange, phase: Phase, bindings: RequestBindings | undefined, slot: number): Decision | Promise<Decision> {
    const binding = new Binding(lease)
    // Without a chain to finish the request, or once it has, the instance serves this phase only.
    if (bindings === undefined || bindings.ended) binding.ended = true
    else bindings.slots[slot] = binding
    binding.running = true
    try {
      lease.instance.begin?.(ex)
    } catch (err) {
      binding.running = false
      binding.ended = true
      this.#done(binding, ex)
      throw err
    }
    return this.#phase(binding, ex, phase)
  }

  #phase (binding: Binding, ex: Exchange, phase: Phase): Decision | Promise<Decision> {
    const instance = binding.lease.instance
    binding.running = true
    let result: Decision | Promise<Decision>
    try {
      result = phase === 'request' ? instance.onRequest(ex, this.needs.requestBody) : instance.onResponse(ex, this.needs.responseBody)
    } catch (err) {
      this.#settled(binding, ex)
      throw err
    }
    if (result instanceof Promise) {
      return result.then(
        (d) => { this.#settled(binding, ex); this.#breaker.success(); return d },
        (err: unknown) => { this.#settled(binding, ex); throw err }
      )
    }
    this.#settled(binding, ex)
    this.#breaker.success()
    return result
  }

  #settled (binding: Binding, ex: Exchange): void {
    binding.running = false
    // A broken instance cannot carry the request further: its context ends now and the pool replaces it.
    if (!binding.lease.instance.healthy) binding.ended = true
    if (binding.ended) this.#done(binding, ex)
  }

  /** Calls the instance's `done` once and gives the lease back; failures are logged, never thrown. */
  #done (binding: Binding, ex: Exchange): void {
    if (binding.released) return
    binding.released = true
    const lease = binding.lease
    let result: void | Promise<void>
    try {
      result = lease.instance.done?.(ex)
    } catch (err) {
      this.#doneFailed(err, ex)
      this.#pool.release(lease)
      return
    }
    if (result instanceof Promise) {
      result.then(
        () => { this.#pool.release(lease) },
        (err: unknown) => { this.#doneFailed(err, ex); this.#pool.release(lease) }
      )
      return
    }
    this.#pool.release(lease)
  }

  #doneFailed (err: unknown, ex: Exchange): void {
    const error = err ?? new Error('done failed')
    this.recordFailure(error)
    ex.log.error({ filter: this.name, err: error }, `filter "${this.name}" failed ending a request; ignored (the response was not affected)`)
  }
}

/** A decision as an observer's outcome. */
function outcomeOf (d: Decision): FilterCallEvent['outcome'] {
  return d.respond ? (d.response === undefined ? 'close' : 'respond') : 'continue'
}

/** What makes a filter the same filter across reloads: its module bytes and its settings. */
export function filterFingerprint (sha256: string, options: ResolvedFilterOptions): string {
  return JSON.stringify([sha256, options.config.toString('utf8'), options.pool, options.failurePolicy, options.limits, options.breaker, options.capabilities, options.proxyWasm])
}

/**
 * The load-time rewrite a filter's limits ask for: fuel metering and/or a memory cap. With fuel,
 * the ABI's budget entries reset the counter on entry themselves (docs/abi.md section 6).
 */
function sandboxTransform (options: ResolvedFilterOptions, logger: WaferLogger, source: string, size: number,
  budgetEntries: readonly string[]): ModuleTransform | undefined {
  const { fuel, memoryPages } = options.limits
  if (fuel === undefined && memoryPages === undefined) return undefined
  return {
    key: `fuel=${fuel !== undefined};pages=${String(memoryPages)};entries=${budgetEntries.join(',')}`,
    apply: async (bytes) => {
      const { instrumentCached } = await import('../sandbox/instrument-cache.js')
      const onMiss = (): void => {
        logger.debug({ filter: options.name, size }, `filter "${options.name}": instrumenting ${source} (${size} bytes) for the sandbox on a worker thread; not in the instrumentation cache`)
      }
      return instrumentCached(bytes, { fuel: fuel !== undefined, budgetEntries, ...(memoryPages === undefined ? {} : { memoryPages }) }, { onMiss })
    }
  }
}

/** The reason class a failure is reported under: what kind of thing went wrong, for clients and metrics. */
export function failureReason (code: string | undefined): string {
  switch (code) {
    case 'WAFER_ERR_FILTER_TRAP': return 'trap'
    case 'WAFER_ERR_FILTER_FUEL': return 'fuel'
    case 'WAFER_ERR_FILTER_MEMORY': return 'memory'
    case 'WAFER_ERR_FILTER_DEADLINE': return 'deadline'
    case 'WAFER_ERR_FILTER_RESUMES': return 'resumes'
    case 'WAFER_ERR_STATE': return 'state'
    case 'WAFER_ERR_POOL_EXHAUSTED': return 'busy'
    case 'WAFER_ERR_FILTER_CLOSED': return 'closed'
    case 'WAFER_ERR_CIRCUIT_OPEN': return 'circuit-open'
    default: return code?.startsWith('WAFER_ERR_ABI_') === true ? 'abi' : 'internal'
  }
}
