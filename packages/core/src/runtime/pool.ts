import { configDefaults } from '../config/defaults.js'
import { waferError, type WaferError } from '../errors.js'

export interface PoolOptions {
  /** Instances created up front and kept warm. */
  min: number
  /** Most instances alive at once (busy + idle). */
  max: number
  /** Most requests waiting for an instance when all are busy; more fail at once. */
  maxWaiting: number
  /** How long a request may wait for an instance before it fails. */
  acquireTimeoutMs: number
  /** Replace an instance after this many uses (0: never), bounding what a leaky guest can accumulate. */
  maxUses: number
}

export const defaultPoolOptions: Readonly<PoolOptions> = configDefaults.filter.pool

export interface Pooled {
  readonly healthy: boolean
  /** Called once when the pool lets the instance go (discarded, used up, or the pool closed). */
  close? (): void
}

/** An instance on loan from the pool, with its use count. */
export interface Lease<T> {
  readonly instance: T
  uses: number
}

interface Waiter<T> {
  resolve: (lease: Lease<T>) => void
  reject: (err: WaferError) => void
  timer: NodeJS.Timeout
}

export interface PoolStats {
  size: number
  idle: number
  busy: number
  waiting: number
  created: number
  discarded: number
}

/**
 * Pre-warmed instances of one filter. Acquiring is synchronous while an instance is idle or
 * the pool may grow, so the common path never allocates a promise. An instance that is
 * released unhealthy (it trapped) is discarded and replaced.
 */
export class InstancePool<T extends Pooled> {
  readonly #create: () => T
  readonly #opts: PoolOptions
  readonly #name: string
  readonly #idle: Array<Lease<T>> = []
  readonly #waiters: Array<Waiter<T>> = []
  #size = 0
  #created = 0
  #discarded = 0
  #closed = false

  constructor (name: string, create: () => T, options: PoolOptions) {
    this.#name = name
    this.#create = create
    this.#opts = options
  }

  /** Creates the warm minimum. Throws what instance creation throws. */
  warm (): void {
    while (this.#size < this.#opts.min) this.#idle.push(this.#spawn())
  }

  /** An instance now, or a promise of one when all are busy and the pool is at its maximum. */
  acquire (): Lease<T> | Promise<Lease<T>> {
    if (this.#closed) throw waferError('WAFER_ERR_FILTER_CLOSED', [this.#name], { filter: this.#name })
    let idle = this.#idle.pop()
    // An idle instance can break on its own (a trap in a timer): it is never handed out.
    while (idle !== undefined && !idle.instance.healthy) {
      this.#drop(idle)
      idle = this.#idle.pop()
    }
    if (idle !== undefined) return idle
    if (this.#size < this.#opts.max) return this.#spawn()
    if (this.#waiters.length >= this.#opts.maxWaiting) {
      throw waferError('WAFER_ERR_POOL_EXHAUSTED', [this.#name, `all ${this.#opts.max} instances are busy and ${this.#waiters.length} requests are already waiting (pool.maxWaiting)`], { filter: this.#name })
    }
    return new Promise<Lease<T>>((resolve, reject) => {
      const waiter: Waiter<T> = {
        resolve,
        reject,
        timer: setTimeout(() => {
          const i = this.#waiters.indexOf(waiter)
          if (i !== -1) this.#waiters.splice(i, 1)
          reject(waferError('WAFER_ERR_POOL_EXHAUSTED', [this.#name, `no instance became free within ${this.#opts.acquireTimeoutMs} ms (pool.acquireTimeoutMs)`], { filter: this.#name }))
        }, this.#opts.acquireTimeoutMs)
      }
      waiter.timer.unref()
      this.#waiters.push(waiter)
    })
  }

  release (lease: Lease<T>): void {
    lease.uses++
    const spent = this.#opts.maxUses > 0 && lease.uses >= this.#opts.maxUses
    if (this.#closed || !lease.instance.healthy || spent) {
      this.#drop(lease)
      if (this.#closed) return
      // Replace what was lost: for a waiter first, then up to the warm minimum.
      if (this.#waiters.length === 0 && this.#size >= this.#opts.min) return
      try {
        lease = this.#spawn()
      } catch {
        // Creation failed now although it worked at load time; the next acquire retries.
        return
      }
    }
    const waiter = this.#waiters.shift()
    if (waiter !== undefined) {
      clearTimeout(waiter.timer)
      waiter.resolve(lease)
    } else {
      this.#idle.push(lease)
    }
  }

  stats (): PoolStats {
    return {
      size: this.#size,
      idle: this.#idle.length,
      busy: this.#size - this.#idle.length,
      waiting: this.#waiters.length,
      created: this.#created,
      discarded: this.#discarded
    }
  }

  /**
   * Discards `instance` now if it is idle (it broke on its own, outside any request) and
   * replaces it up to the warm minimum. A busy instance is left to `release`, which discards it.
   */
  evict (instance: T): void {
    const i = this.#idle.findIndex((l) => l.instance === instance)
    if (i === -1) return
    const [lease] = this.#idle.splice(i, 1) as [Lease<T>]
    this.#drop(lease)
    if (this.#closed || this.#size >= this.#opts.min) return
    try {
      this.#idle.push(this.#spawn())
    } catch {
      // Creation failed now although it worked at load time; the next acquire retries.
    }
  }

  /** Rejects waiters and drops idle instances; busy ones are dropped when released. */
  close (): void {
    this.#closed = true
    for (const w of this.#waiters.splice(0)) {
      clearTimeout(w.timer)
      w.reject(waferError('WAFER_ERR_FILTER_CLOSED', [this.#name], { filter: this.#name }))
    }
    for (const lease of this.#idle.splice(0)) this.#drop(lease)
  }

  /** Lets an instance go: it stops counting, and whatever it holds (timers, calls) is closed. */
  #drop (lease: Lease<T>): void {
    this.#size--
    this.#discarded++
    lease.instance.close?.()
  }

  #spawn (): Lease<T> {
    const instance = this.#create()
    this.#size++
    this.#created++
    return { instance, uses: 0 }
  }
}
