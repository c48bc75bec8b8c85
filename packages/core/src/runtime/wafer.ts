import { pino } from 'pino'
import type { WaferLogger } from '../logger.js'
import { describe, waferError } from '../errors.js'
import { MemoryStore } from '../state/memory-store.js'
import type { KvStore } from '../state/store.js'
import { Chain } from './chain.js'
import { Filter, type FilterStatus } from './filter.js'
import { resolveFilterOptions, type FilterOptions } from './filter-options.js'
import { ModuleCache } from './module-cache.js'
import type { WaferObserver } from './observer.js'

export interface WaferOptions {
  /** Filters by name. Names prefix store keys and appear in logs, errors and metrics. */
  filters: Record<string, FilterOptions>
  /** Named chains: ordered lists of filter names. */
  chains?: Record<string, string[]>
  /** The host key-value store. Default: an in-memory store (one process). */
  store?: KvStore
  /** A pino logger. Default: pino at level info. */
  logger?: WaferLogger
  /** Distinct compiled modules kept in memory. Default 64. */
  moduleCacheSize?: number
  /** Receives filter calls (phase, outcome, duration) for metrics. */
  observer?: WaferObserver
}

const KNOWN = ['filters', 'chains', 'store', 'logger', 'moduleCacheSize', 'observer']

export interface WaferStatus {
  filters: FilterStatus[]
  chains: Record<string, string[]>
}

/**
 * The runtime: a set of loaded filters, the chains composed from them, and the host state
 * they share. Framework adapters hold one and run each request through a `Chain`.
 */
export class Wafer {
  readonly logger: WaferLogger
  readonly store: KvStore
  readonly #filters: ReadonlyMap<string, Filter>
  readonly #chains = new Map<string, Chain>()
  #closed = false

  private constructor (filters: Map<string, Filter>, store: KvStore, logger: WaferLogger) {
    this.#filters = filters
    this.store = store
    this.logger = logger
  }

  /** Loads and configures every filter (in parallel); fails if any one fails, naming it. */
  static async create (options: WaferOptions): Promise<Wafer> {
    if (typeof options !== 'object' || options === null) {
      throw waferError('WAFER_ERR_OPTIONS_INVALID', ['expected an options object with "filters"'])
    }
    for (const key of Object.keys(options)) {
      if (!KNOWN.includes(key)) throw waferError('WAFER_ERR_OPTIONS_INVALID', [`unknown option "${key}"; known options: ${KNOWN.join(', ')}`])
    }
    if (typeof options.filters !== 'object' || options.filters === null) {
      throw waferError('WAFER_ERR_OPTIONS_INVALID', ['"filters" must be an object of filter name -> { module, config, ... }'])
    }
    const resolved = Object.entries(options.filters).map(([name, f]) => resolveFilterOptions(name, f))
    const logger: WaferLogger = options.logger ?? pino({ name: 'wafer' })
    const store = options.store ?? new MemoryStore()
    const ctx = { cache: new ModuleCache(options.moduleCacheSize), store, logger, observer: options.observer }
    const results = await Promise.allSettled(resolved.map((r) => Filter.load(r, ctx)))
    const filters = new Map<string, Filter>()
    let failure: unknown
    results.forEach((r, i) => {
      if (r.status === 'fulfilled') filters.set((resolved[i] as { name: string }).name, r.value)
      else failure ??= r.reason
    })
    if (failure !== undefined) {
      for (const f of filters.values()) f.close()
      throw failure
    }
    const wafer = new Wafer(filters, store, logger)
    for (const [name, list] of Object.entries(options.chains ?? {})) wafer.#chains.set(name, wafer.compose(list, name))
    for (const f of filters.values()) {
      logger.info({ filter: f.name, sha256: f.sha256, abi: `${f.abi.abi}/${f.abi.version}`, needs: f.needs }, `filter "${f.name}" loaded from ${f.source}`)
    }
    return wafer
  }

  filter (name: string): Filter | undefined {
    return this.#filters.get(name)
  }

  /** A chain declared in `chains`, by name. */
  chain (name: string): Chain {
    const chain = this.#chains.get(name)
    if (chain === undefined) {
      throw waferError('WAFER_ERR_CHAIN_INVALID', [`"${name}"`, `no chain of that name; declared chains: ${[...this.#chains.keys()].join(', ') || '(none)'}`])
    }
    return chain
  }

  /** Composes a chain from filter names, checking that each one exists. */
  compose (names: readonly string[], label = names.join(' -> ')): Chain {
    if (!Array.isArray(names) || names.some((n) => typeof n !== 'string')) {
      throw waferError('WAFER_ERR_CHAIN_INVALID', [`"${label}"`, 'a chain must be an array of filter names'])
    }
    const filters = names.map((n) => {
      const f = this.#filters.get(n)
      if (f === undefined) {
        throw waferError('WAFER_ERR_CHAIN_INVALID', [`"${label}"`, `it uses filter "${n}", which is not declared; declared filters: ${[...this.#filters.keys()].join(', ') || '(none)'}`])
      }
      return f
    })
    return new Chain(label, filters)
  }

  status (): WaferStatus {
    const chains: Record<string, string[]> = {}
    for (const [name, c] of this.#chains) chains[name] = c.filters.map((f) => f.name)
    return { filters: [...this.#filters.values()].map((f) => f.status()), chains }
  }

  async close (): Promise<void> {
    if (this.#closed) return
    this.#closed = true
    for (const f of this.#filters.values()) f.close()
    try {
      await this.store.close?.()
    } catch (err) {
      this.logger.warn({ err }, `closing the store failed: ${describe(err)}`)
    }
  }
}

export function createWafer (options: WaferOptions): Promise<Wafer> {
  return Wafer.create(options)
}
