import { waferError } from '../errors.js'
import type { CounterResult, IncrOptions, KvStore, SetOptions } from './store.js'

export interface MemoryStoreOptions {
  /** Most keys kept; the least recently used are evicted past it. Default 100,000. */
  maxKeys?: number
  /** Clock in milliseconds, for tests. Default `Date.now`. */
  now?: () => number
}

/**
 * One key: a counter (kept as a number, read back as its decimal text, as Redis does) or bytes,
 * its expiry, and its place in the recency list. One class, so every entry has the same shape.
 */
class Entry {
  key: string
  counter = 0
  bytes: Uint8Array | undefined = undefined
  /** Clock time after which the key is gone; 0: never. */
  expiresAt = 0
  newer: Entry | undefined = undefined
  older: Entry | undefined = undefined

  constructor (key: string) {
    this.key = key
  }
}

/**
 * The default store: one process, answers synchronously. Counters and values share one
 * least-recently-used list, so memory stays bounded however many distinct clients a rate limit
 * sees. A lookup is one Map read, one clock read when the key expires, and a few pointer
 * moves: it runs on every rate-limited request.
 */
export class MemoryStore implements KvStore {
  readonly #map = new Map<string, Entry>()
  readonly #max: number
  readonly #now: () => number
  /** Most and least recently used. */
  #newest: Entry | undefined = undefined
  #oldest: Entry | undefined = undefined

  constructor (options: MemoryStoreOptions = {}) {
    const maxKeys = options.maxKeys ?? 100_000
    if (!Number.isInteger(maxKeys) || maxKeys < 1) {
      throw waferError('WAFER_ERR_OPTIONS_INVALID', [`store "maxKeys" must be a positive integer, got ${String(maxKeys)}`])
    }
    this.#max = maxKeys
    this.#now = options.now ?? Date.now
  }

  get (key: string): Uint8Array | undefined {
    const e = this.#live(key, this.#now())
    if (e === undefined) return undefined
    return e.bytes ?? Buffer.from(String(e.counter))
  }

  set (key: string, value: Uint8Array, options: SetOptions = {}): void {
    const e = this.#entry(key)
    e.bytes = Uint8Array.from(value)
    e.counter = 0
    e.expiresAt = expiry(this.#now(), options.ttlMs)
  }

  incr (key: string, options: IncrOptions = {}): CounterResult {
    const by = options.by ?? 1
    if (!Number.isSafeInteger(by)) throw new TypeError(`incr "by" must be an integer, got ${String(by)}`)
    // One clock read per call: on this path it costs more than the lookup.
    const now = this.#now()
    let e = this.#live(key, now)
    if (e === undefined) {
      e = this.#entry(key)
      e.counter = by
      e.expiresAt = expiry(now, options.ttlMs)
    } else if (e.bytes === undefined) {
      // The TTL set at creation stays: a fixed window.
      e.counter += by
    } else {
      const text = Buffer.from(e.bytes).toString('utf8')
      if (!/^-?\d{1,15}$/.test(text)) throw new TypeError(`value at "${key}" is not an integer`)
      e.counter = Number(text) + by
      e.bytes = undefined
    }
    return { value: e.counter, ttlMs: e.expiresAt === 0 ? -1 : Math.max(0, e.expiresAt - now) }
  }

  delete (key: string): boolean {
    const e = this.#map.get(key)
    if (e === undefined) return false
    this.#remove(e)
    return !expired(e, this.#now())
  }

  get size (): number {
    return this.#map.size
  }

  close (): void {
    this.#map.clear()
    this.#newest = undefined
    this.#oldest = undefined
  }

  /** The key's entry if it is there and not expired, made the most recently used. */
  #live (key: string, now: number): Entry | undefined {
    const e = this.#map.get(key)
    if (e === undefined) return undefined
    if (expired(e, now)) {
      this.#remove(e)
      return undefined
    }
    this.#touch(e)
    return e
  }

  /** The key's entry, made the most recently used; a new one (evicting the oldest past the limit) if absent. */
  #entry (key: string): Entry {
    const found = this.#map.get(key)
    if (found !== undefined) {
      this.#touch(found)
      return found
    }
    const e = new Entry(key)
    this.#map.set(key, e)
    e.older = this.#newest
    if (this.#newest !== undefined) this.#newest.newer = e
    this.#newest = e
    this.#oldest ??= e
    if (this.#map.size > this.#max) this.#remove(this.#oldest)
    return e
  }

  #touch (e: Entry): void {
    if (e === this.#newest) return
    this.#unlink(e)
    e.older = this.#newest
    e.newer = undefined
    if (this.#newest !== undefined) this.#newest.newer = e
    this.#newest = e
    this.#oldest ??= e
  }

  #remove (e: Entry): void {
    this.#unlink(e)
    this.#map.delete(e.key)
  }

  #unlink (e: Entry): void {
    if (e.newer !== undefined) e.newer.older = e.older
    else this.#newest = e.older
    if (e.older !== undefined) e.older.newer = e.newer
    else this.#oldest = e.newer
    e.newer = undefined
    e.older = undefined
  }
}

/** Live up to and including its expiry time, as in Redis. */
function expired (e: Entry, now: number): boolean {
  return e.expiresAt !== 0 && now > e.expiresAt
}

function expiry (now: number, ttlMs: number | undefined): number {
  return ttlMs === undefined || !(ttlMs > 0) ? 0 : now + Math.ceil(ttlMs)
}
