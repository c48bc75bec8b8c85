import { waferError } from '../errors.js'
import { Chain } from './chain.js'
import type { Filter } from './filter.js'

/** A chain as routes name it: a declared chain's name, or filter names in order. */
export type ChainSpec = string | readonly string[]

/**
 * One loaded version of the filters and chains, plus whatever an adapter keeps with it (the
 * gateway's routes). Immutable: a reload builds a new generation and swaps it in. Requests
 * `enter()` the current generation when they start and leave it when they finish, so each
 * request runs on one generation from its first filter to its last.
 */
export class Generation {
  readonly id: number
  readonly filters: ReadonlyMap<string, Filter>
  readonly data: unknown
  readonly #chains: ReadonlyMap<string, Chain>
  readonly #composed = new Map<string, Chain>()
  /** Routes pass the same array every request: found by identity, no key built per request. */
  readonly #bySpec = new WeakMap<readonly string[], Chain>()
  /** Filters some chain of this generation uses (declared, or composed for a route). */
  readonly #used = new Set<string>()
  #inflight = 0
  #onIdle: (() => void) | undefined

  constructor (id: number, filters: ReadonlyMap<string, Filter>, chains: Readonly<Record<string, readonly string[]>>, data: unknown) {
    this.id = id
    this.filters = filters
    this.data = data
    const named = new Map<string, Chain>()
    for (const [name, list] of Object.entries(chains)) named.set(name, this.compose(list, name))
    this.#chains = named
  }

  get inflight (): number {
    return this.#inflight
  }

  /** The declared chain names and their filters. */
  chainNames (): Record<string, string[]> {
    const out: Record<string, string[]> = {}
    for (const [name, c] of this.#chains) out[name] = c.filters.map((f) => f.name)
    return out
  }

  /** A declared chain by name, or a chain composed from filter names (cached per generation). */
  chain (spec: ChainSpec): Chain {
    if (typeof spec === 'string') {
      const chain = this.#chains.get(spec)
      if (chain === undefined) {
        throw waferError('WAFER_ERR_CHAIN_INVALID', [`"${spec}"`, `no chain of that name; declared chains: ${[...this.#chains.keys()].join(', ') || '(none)'}`])
      }
      return chain
    }
    let chain = this.#bySpec.get(spec)
    if (chain !== undefined) return chain
    const key = spec.join('\u0000')
    chain = this.#composed.get(key)
    if (chain === undefined) {
      chain = this.compose(spec)
      this.#composed.set(key, chain)
    }
    this.#bySpec.set(spec, chain)
    return chain
  }

  /** Composes a chain from filter names, checking that each one exists in this generation. */
  compose (names: readonly string[], label = names.join(' -> ')): Chain {
    if (!Array.isArray(names) || names.some((n) => typeof n !== 'string')) {
      throw waferError('WAFER_ERR_CHAIN_INVALID', [`"${label}"`, 'a chain must be an array of filter names'])
    }
    const filters = names.map((n) => {
      const f = this.filters.get(n)
      if (f === undefined) {
        throw waferError('WAFER_ERR_CHAIN_INVALID', [`"${label}"`, `it uses filter "${n}", which is not declared; declared filters: ${[...this.filters.keys()].join(', ') || '(none)'}`])
      }
      return f
    })
    for (const n of names) this.#used.add(n)
    return new Chain(label, filters)
  }

  /**
   * The service filters: loaded, but in no chain this generation has declared or composed so
   * far. Adapters compose the chains their routes name when they start and before a reload
   * swaps in (`Wafer#requireChain`), so once serving this is every filter no request runs.
   */
  services (): string[] {
    return [...this.filters.keys()].filter((n) => !this.#used.has(n))
  }

  /** Module hashes by filter name: what a reload log line compares. */
  hashes (): Record<string, string> {
    const out: Record<string, string> = {}
    for (const [name, f] of this.filters) out[name] = f.sha256.slice(0, 12)
    return out
  }

  enter (): void {
    this.#inflight++
  }

  leave (): void {
    this.#inflight--
    if (this.#inflight === 0 && this.#onIdle !== undefined) {
      const idle = this.#onIdle
      this.#onIdle = undefined
      idle()
    }
  }

  /** Calls `fn` once no request is left on this generation (at once if none is). */
  whenIdle (fn: () => void): void {
    if (this.#inflight === 0) fn()
    else this.#onIdle = fn
  }
}
