import { LRUCache } from 'lru-cache'
import { waferError } from '../errors.js'
import type { CounterResult, IncrOptions, KvStore, SetOptions } from './store.js'

export interface MemoryStoreOptions {
  /** Most keys kept; the least recently used are evicted past it. Default 100,000. */
  maxKeys?: number
  /** Clock in milliseconds, for tests. Default `Date.now`. */
  now?: () => number
}

/** A counter is kept as a number and read back as its decimal text, as Redis does. */
type Entry = { bytes: Uint8Array } | { counter: number }

/**
 * The default store: one process, answers synchronously. Counters and values share one LRU so
 * memory stays bounded however many distinct clients a rate limit sees.
 */
export class MemoryStore implements KvStore {
  readonly #cache: LRUCache<string, Entry>

  constructor (options: MemoryStoreOptions = {}) {
    const maxKeys = options.maxKeys ?? 100_000
    if (!Number.isInteger(maxKeys) || maxKeys < 1) {
      throw waferError('WAFER_ERR_OPTIONS_INVALID', [`store "maxKeys" must be a positive integer, got ${String(maxKeys)}`])
    }
    const now = options.now ?? Date.now
    // ttlResolution 0: read the given clock on every check instead of caching it for 1 ms of real time.
    this.#cache = new LRUCache<string, Entry>({ max: maxKeys, ttlAutopurge: false, ttlResolution: 0, perf: { now } })
  }

  get (key: string): Uint8Array | undefined {
    const entry = this.#cache.get(key)
    if (entry === undefined) return undefined
    return 'bytes' in entry ? entry.bytes : Buffer.from(String(entry.counter))
  }

  set (key: string, value: Uint8Array, options: SetOptions = {}): void {
    this.#cache.set(key, { bytes: Uint8Array.from(value) }, { ttl: ttl(options.ttlMs) })
  }

  incr (key: string, options: IncrOptions = {}): CounterResult {
    const by = options.by ?? 1
    if (!Number.isSafeInteger(by)) throw new TypeError(`incr "by" must be an integer, got ${String(by)}`)
    const entry = this.#cache.get(key)
    let value: number
    if (entry === undefined) {
      value = by
      this.#cache.set(key, { counter: value }, { ttl: ttl(options.ttlMs) })
    } else if ('counter' in entry) {
      // Mutating in place keeps the TTL set at creation: a fixed window.
      value = entry.counter += by
    } else {
      const text = Buffer.from(entry.bytes).toString('utf8')
      if (!/^-?\d{1,15}$/.test(text)) throw new TypeError(`value at "${key}" is not an integer`)
      value = Number(text) + by
      const left = this.#cache.getRemainingTTL(key)
      this.#cache.set(key, { counter: value }, { ttl: left === Infinity ? 0 : Math.max(1, Math.ceil(left)) })
    }
    const left = this.#cache.getRemainingTTL(key)
    return { value, ttlMs: left === Infinity ? -1 : Math.max(0, Math.ceil(left)) }
  }

  delete (key: string): boolean {
    return this.#cache.delete(key)
  }

  get size (): number {
    return this.#cache.size
  }

  close (): void {
    this.#cache.clear()
  }
}

function ttl (ms: number | undefined): number {
  return ms === undefined || !(ms > 0) ? 0 : Math.ceil(ms)
}
