import { configDefaults } from '../config/defaults.js'

export type BreakerState = 'closed' | 'open' | 'half-open'

export interface BreakerOptions {
  /** Consecutive failures that open the breaker; 0 turns it off. */
  failures: number
  /** How long it stays open before one trial call is let through. */
  cooldownMs: number
}

export const defaultBreakerOptions: Readonly<BreakerOptions> = configDefaults.filter.breaker

export interface BreakerStatus {
  state: BreakerState
  consecutiveFailures: number
  /** When it last opened (ISO 8601). */
  openedAt: string | undefined
}

/**
 * A circuit breaker for one filter: after `failures` failed calls in a row it opens and the
 * filter is not called (its failure policy answers instead); after `cooldownMs` one trial call
 * is let through (half-open), which closes it on success or opens it again on failure.
 */
export class Breaker {
  readonly #options: BreakerOptions
  readonly #now: () => number
  #state: BreakerState = 'closed'
  #consecutive = 0
  #openedAt = 0
  #trial = false

  constructor (options: BreakerOptions, now: () => number = Date.now) {
    this.#options = options
    this.#now = now
  }

  /** Whether a call may go ahead now; in half-open, only the one trial call may. */
  allow (): boolean {
    if (this.#state === 'closed') return true
    if (this.#state === 'open') {
      if (this.#now() - this.#openedAt < this.#options.cooldownMs) return false
      this.#state = 'half-open'
      this.#trial = false
    }
    if (this.#trial) return false
    this.#trial = true
    return true
  }

  success (): void {
    this.#consecutive = 0
    this.#state = 'closed'
    this.#trial = false
  }

  failure (): void {
    this.#consecutive++
    if (this.#options.failures === 0) return
    if (this.#state === 'half-open' || this.#consecutive >= this.#options.failures) {
      this.#state = 'open'
      this.#openedAt = this.#now()
      this.#trial = false
    }
  }

  /** Milliseconds until a trial call is let through (0 unless open). */
  retryInMs (): number {
    return this.#state === 'open' ? Math.max(0, this.#options.cooldownMs - (this.#now() - this.#openedAt)) : 0
  }

  status (): BreakerStatus {
    return {
      state: this.#state,
      consecutiveFailures: this.#consecutive,
      openedAt: this.#openedAt === 0 ? undefined : new Date(this.#openedAt).toISOString()
    }
  }
}
