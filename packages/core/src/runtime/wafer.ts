import { createHash } from 'node:crypto'
import { pino } from 'pino'
import type { WaferLogger } from '../logger.js'
import { describe, filtersFailed, isWaferError, waferError } from '../errors.js'
import { MemoryStore } from '../state/memory-store.js'
import type { KvStore } from '../state/store.js'
import type { Chain } from './chain.js'
import { Filter, filterFingerprint, type FilterStatus } from './filter.js'
import { configDefaults } from '../config/defaults.js'
import { checkOptions, resolveLogger } from '../config/validate-options.js'
import { resolveFilters, type FilterOptions, type ResolvedFilterOptions } from './filter-options.js'
import { Generation, type ChainSpec } from './generation.js'
import { ModuleCache, readModuleSource } from './module-cache.js'
import type { WaferObserver } from './observer.js'
import { failedReport, loggable, type ReloadFailure, type ReloadReport } from './reload-report.js'
import { ProxyState } from './proxy-state.js'
import { SharedQueues } from '../abi/proxy-wasm/queues.js'
import type { ProxyMetrics } from '../abi/proxy-wasm/metrics.js'

/** What a generation is built from: the part of the options a reload may change. */
export interface WaferDefinition {
  /** Filters by name. Names prefix store keys and appear in logs, errors and metrics. */
  filters: Record<string, FilterOptions>
  /** Named chains: ordered lists of filter names. */
  chains?: Record<string, string[]>
  /** Adapter data kept with the generation (the gateway's routes); compared as JSON on reload. */
  data?: unknown
  /** How long a replaced generation may keep serving its in-flight requests. Default 30,000 ms; a reload may change it. */
  drainTimeoutMs?: number
}

/** What `reload()` takes: a definition, and what the adapter found that only a restart applies. */
export interface ReloadDefinition extends WaferDefinition {
  /** Settings that changed but are read at startup only; reported as `restartRequired` and logged, not applied. */
  restartRequired?: readonly string[]
}

export interface WaferOptions extends WaferDefinition {
  /** The host key-value store. Default: an in-memory store (one process). It outlives reloads. */
  store?: KvStore
  /** A pino logger, or `false` for none. Default: pino at level info. */
  logger?: WaferLogger | false
  /** Distinct compiled modules kept in memory. Default 64. */
  moduleCacheSize?: number
  /** Receives filter calls and reloads, for metrics. */
  observer?: WaferObserver
}

/** A filter's status in the runtime, with whether it is a service filter. */
export interface RuntimeFilterStatus extends FilterStatus {
  /**
   * In no chain (docs/proxy-wasm.md#service-filters): loaded and kept alive (a Proxy-Wasm
   * filter's root context, timers and queues) but never run for a request.
   */
  service: boolean
}

export interface WaferStatus {
  generation: number
  filters: RuntimeFilterStatus[]
  /** The service filters' names: those in no chain. */
  services: string[]
  chains: Record<string, string[]>
  /** Replaced generations still finishing requests. */
  draining: Array<{ generation: number, inflight: number }>
  lastReload: ReloadReport | undefined
}

/**
 * The runtime: the current generation of filters and chains, the host state they share, and
 * reloads. Adapters `enter()` the current generation per request and `leave()` it when the
 * response is done; `reload()` builds the next generation off to the side and swaps it in only
 * when every filter has loaded and initialised, so a broken change never serves a request.
 */
export class Wafer {
  readonly logger: WaferLogger
  readonly store: KvStore
  readonly #cache: ModuleCache
  readonly #observer: WaferObserver | undefined
  #drainTimeoutMs: number
  readonly #checks = new Set<(generation: Generation) => void>()
  readonly #draining = new Set<Generation>()
  #current: Generation
  #lastReload: ReloadReport | undefined
  /** The last reload in line; it never rejects, so one failure cannot block the ones after it. */
  #queue: Promise<unknown> = Promise.resolve()
  #closed = false
  readonly #proxy: ProxyState
  /** Proxy-Wasm shared queues: per process, scoped by VM id, outliving reloads. */
  readonly #queues: SharedQueues

  private constructor (options: WaferOptions, current: Generation, cache: ModuleCache, store: KvStore, logger: WaferLogger, drainTimeoutMs: number, proxy: ProxyState, queues: SharedQueues) {
    this.#proxy = proxy
    this.#queues = queues
    this.#current = current
    this.#cache = cache
    this.store = store
    this.logger = logger
    this.#observer = options.observer
    this.#drainTimeoutMs = drainTimeoutMs
  }

  /** Loads and configures every filter (in parallel); fails if any fails, naming each one that did. */
  static async create (options: WaferOptions): Promise<Wafer> {
    // Every option, filters included, against the one schema (options-schema.ts): all problems at once.
    checkOptions('createWafer', options)
    const drainTimeoutMs = options.drainTimeoutMs ?? configDefaults.runtime.drainTimeoutMs
    const logger: WaferLogger = resolveLogger(options.logger) ?? pino({ name: 'wafer' })
    const store = options.store ?? new MemoryStore()
    const cache = new ModuleCache(options.moduleCacheSize ?? configDefaults.runtime.moduleCacheSize)
    const proxy = new ProxyState(store)
    const queues = new SharedQueues()
    const { generation } = await build(options, undefined, 1, { cache, store, logger, observer: options.observer, proxy, queues })
    await proxy.settle()
    for (const f of generation.filters.values()) {
      logger.info({ filter: f.name, sha256: f.sha256, abi: `${f.abi.abi}/${f.abi.version}`, needs: f.needs }, `filter "${f.name}" loaded from ${f.source}`)
    }
    return new Wafer(options, generation, cache, store, logger, drainTimeoutMs, proxy, queues)
  }

  /**
   * The metrics Proxy-Wasm filters define (`proxy_define_metric`), in this process: read them
   * with `snapshot()`, or export them with `register(promRegistry)` (docs/proxy-wasm.md, "Metrics").
   */
  get proxyMetrics (): ProxyMetrics {
    return this.#proxy.metrics
  }

  /** The generation new requests run on. */
  get generation (): Generation {
    return this.#current
  }

  /** Binds a starting request to the current generation; pair with `leave()` when it is done. */
  enter (): Generation {
    const g = this.#current
    g.enter()
    return g
  }

  leave (generation: Generation): void {
    generation.leave()
  }

  filter (name: string): Filter | undefined {
    return this.#current.filters.get(name)
  }

  /** A chain declared in `chains`, by name, in the current generation. */
  chain (name: string): Chain {
    return this.#current.chain(name)
  }

  /** Composes a chain from filter names in the current generation. */
  compose (names: readonly string[], label?: string): Chain {
    return this.#current.compose(names, label)
  }

  /**
   * Registers a check that every generation must pass (an adapter's routes must still find
   * their chains). It runs now, and on each reload before the swap; a throw rejects the reload.
   */
  addCheck (check: (generation: Generation) => void): void {
    check(this.#current)
    this.#checks.add(check)
  }

  /** Checks now, and on every reload, that `spec` resolves to a chain. */
  requireChain (spec: ChainSpec): void {
    this.addCheck((g) => { g.chain(spec) })
  }

  /**
   * Builds the next generation from `definition` and swaps it in, or leaves the current one
   * serving if anything fails. Never rejects: the report says what happened. Reloads run one
   * at a time, in call order. `definition` may be a loader, called when this reload's turn comes.
   */
  reload (definition: ReloadDefinition | (() => Promise<ReloadDefinition>)): Promise<ReloadReport> {
    // #reload turns every failure into a report; the catch is for a failure in that itself.
    const run = this.#queue.then(() => this.#reload(definition))
      .catch((err: unknown) => this.#settle(failedReport(err, this.#current.id, new Date().toISOString(), 0)))
    this.#queue = run.then(noop, noop)
    return run
  }

  status (): WaferStatus {
    const g = this.#current
    const services = g.services()
    return {
      generation: g.id,
      filters: [...g.filters.values()].map((f) => ({ ...f.status(), service: services.includes(f.name) })),
      services,
      chains: g.chainNames(),
      draining: [...this.#draining].map((d) => ({ generation: d.id, inflight: d.inflight })),
      lastReload: this.#lastReload
    }
  }

  async close (): Promise<void> {
    if (this.#closed) return
    this.#closed = true
    for (const g of [this.#current, ...this.#draining]) for (const f of g.filters.values()) f.close()
    this.#draining.clear()
    this.#proxy.close()
    try {
      await this.store.close?.()
    } catch (err) {
      this.logger.warn({ err }, `closing the store failed: ${describe(err)}`)
    }
  }

  async #reload (source: ReloadDefinition | (() => Promise<ReloadDefinition>)): Promise<ReloadReport> {
    const started = performance.now()
    const from = this.#current
    const at = new Date().toISOString()
    let report: ReloadReport
    try {
      report = await this.#swap(source, from, at, started)
    } catch (err) {
      report = failedReport(err, from.id, at, Math.round(performance.now() - started))
      const failure = report.error as ReloadFailure
      // The report is plain data, so logging it cannot throw (pino's error serializer tags what
      // it walks); an uncoded error adds a plain copy with its stack.
      const fields = isWaferError(err) ? { reload: report } : { err: loggable(err), reload: report }
      this.#log('error', fields, `reload failed; generation ${from.id} keeps serving: ${failure.message}`)
    }
    return this.#settle(report)
  }

  async #swap (source: ReloadDefinition | (() => Promise<ReloadDefinition>), from: Generation, at: string, started: number): Promise<ReloadReport> {
    if (this.#closed) throw waferError('WAFER_ERR_FILTER_CLOSED', ['(runtime)'])
    // A loader (re-reading a config file) fails the same way as a module that does not load.
    const definition = typeof source === 'function' ? await source() : source
    const drainTimeoutMs = definition.drainTimeoutMs === undefined ? this.#drainTimeoutMs : checkDrainTimeout(definition.drainTimeoutMs)
    const restartRequired = [...(definition.restartRequired ?? [])]
    const { generation: next, created } = await build(definition, from, from.id + 1,
      { cache: this.#cache, store: this.store, logger: this.logger, observer: this.#observer, proxy: this.#proxy, queues: this.#queues })
    await this.#proxy.settle()
    try {
      for (const check of this.#checks) check(next)
    } catch (err) {
      for (const f of created) f.close()
      throw err
    }
    const removed = [...from.filters.keys()].filter((n) => !next.filters.has(n))
    const durationMs = Math.round(performance.now() - started)
    const restart = restartRequired.length > 0 ? { restartRequired } : {}
    let report: ReloadReport
    if (created.length === 0 && removed.length === 0 && sameChains(from, next) && JSON.stringify(definition.data) === JSON.stringify(from.data) &&
      drainTimeoutMs === this.#drainTimeoutMs) {
      report = { outcome: 'unchanged', at, durationMs, from: from.id, to: from.id, loaded: [], removed: [], ...restart }
      this.#log('info', { reload: report }, `reload: no change; generation ${from.id} keeps serving`)
    } else {
      this.#current = next
      this.#drainTimeoutMs = drainTimeoutMs
      this.#retire(from)
      const loaded = created.map((f) => f.name)
      report = { outcome: 'applied', at, durationMs, from: from.id, to: next.id, loaded, removed, hashes: { before: from.hashes(), after: next.hashes() }, ...restart }
      this.#log('info', { reload: report }, `reload: generation ${from.id} -> ${next.id} in ${durationMs} ms (loaded: ${loaded.join(', ') || 'none'}; removed: ${removed.join(', ') || 'none'})`)
      // The adapters' checks above composed every chain a route names: what is left runs for no request.
      const services = next.services()
      if (services.length > 0) this.#log('info', { services }, `service filters (in no chain, kept running): ${services.join(', ')}`)
    }
    if (restartRequired.length > 0) {
      this.#log('warn', { restartRequired }, `reload: ${restartRequired.join(', ')} changed, but ${restartRequired.length === 1 ? 'it is' : 'they are'} read at startup only; restart to apply`)
    }
    return report
  }

  /** Records a finished reload and tells the observer. */
  #settle (report: ReloadReport): ReloadReport {
    this.#lastReload = report
    try {
      this.#observer?.onReload?.(report)
    } catch (err) {
      this.#log('error', { err: loggable(err) }, 'a WaferObserver threw; ignored')
    }
    return report
  }

  /** Logs without ever throwing: a reload reports through its result, whatever the logger does. */
  #log (level: 'info' | 'warn' | 'error', fields: Record<string, unknown>, message: string): void {
    try {
      this.logger[level](fields, message)
    } catch {
      try {
        this.logger[level](message)
      } catch {
        // Nothing left to tell it with; the report still says what happened.
      }
    }
  }

  /** Lets a replaced generation finish its requests, then closes the filters nobody uses any more. */
  #retire (old: Generation): void {
    this.#draining.add(old)
    let timer: NodeJS.Timeout | undefined
    const finish = (): void => {
      if (!this.#draining.delete(old)) return
      if (timer !== undefined) clearTimeout(timer)
      const live = [this.#current, ...this.#draining]
      for (const f of old.filters.values()) {
        if (!live.some((g) => g.filters.get(f.name) === f)) f.close()
      }
      this.logger.info({ generation: old.id }, `generation ${old.id} drained`)
    }
    timer = setTimeout(() => {
      this.logger.warn({ generation: old.id, inflight: old.inflight },
        `generation ${old.id} still has ${old.inflight} requests after ${this.#drainTimeoutMs} ms (drainTimeoutMs); closing its filters, those requests fail with WAFER_ERR_FILTER_CLOSED`)
      finish()
    }, this.#drainTimeoutMs)
    timer.unref()
    old.whenIdle(finish)
  }
}

export function createWafer (options: WaferOptions): Promise<Wafer> {
  return Wafer.create(options)
}

interface BuildContext {
  cache: ModuleCache
  store: KvStore
  logger: WaferLogger
  observer: WaferObserver | undefined
  proxy: ProxyState
  queues: SharedQueues
}

/**
 * Loads a generation: filters whose module bytes and settings are unchanged since `from` are
 * reused (warm pools and all); the others are read, compiled, validated and initialised, all of
 * them even when one fails. On any failure the filters created here are closed and the error is
 * thrown: a filter's own when one failed, WAFER_ERR_FILTERS_FAILED listing each when several did.
 */
async function build (definition: WaferDefinition, from: Generation | undefined, id: number, ctx: BuildContext): Promise<{ generation: Generation, created: Filter[] }> {
  if (typeof definition.filters !== 'object' || definition.filters === null) {
    throw waferError('WAFER_ERR_OPTIONS_INVALID', ['"filters" must be an object of filter name -> { module, config, ... }'])
  }
  const resolved = resolveFilters(definition.filters)
  const created: Filter[] = []
  const results = await Promise.allSettled(resolved.map(async (options) => {
    const read = await readModuleSource(options.module)
    const existing = from?.filters.get(options.name)
    if (existing !== undefined && existing.state === 'ready' && existing.fingerprint === fingerprintOf(read.bytes, options)) return existing
    const filter = await Filter.load(options, ctx, read)
    created.push(filter)
    return filter
  }))
  const filters = new Map<string, Filter>()
  const failures: Array<{ filter: string, error: unknown }> = []
  results.forEach((r, i) => {
    const name = (resolved[i] as ResolvedFilterOptions).name
    if (r.status === 'fulfilled') filters.set(name, r.value)
    else failures.push({ filter: name, error: r.reason })
  })
  try {
    // Every failing filter at once, so that one startup shows all there is to fix.
    if (failures.length === 1) throw (failures[0] as { error: unknown }).error
    if (failures.length > 1) throw filtersFailed(failures, resolved.length)
    return { generation: new Generation(id, filters, definition.chains ?? {}, definition.data), created }
  } catch (err) {
    for (const f of created) f.close()
    throw err
  }
}

function noop (): void {}

function checkDrainTimeout (value: unknown): number {
  if (!Number.isSafeInteger(value) || (value as number) < 0) {
    throw waferError('WAFER_ERR_OPTIONS_INVALID', [`"drainTimeoutMs" must be a non-negative integer, got ${JSON.stringify(value)}`])
  }
  return value as number
}

function fingerprintOf (bytes: Uint8Array, options: ResolvedFilterOptions): string {
  return filterFingerprint(createHash('sha256').update(bytes).digest('hex'), options)
}

function sameChains (a: Generation, b: Generation): boolean {
  return JSON.stringify(a.chainNames()) === JSON.stringify(b.chainNames())
}
