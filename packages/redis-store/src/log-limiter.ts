/**
 * Lets a repeated log line through once per interval. While Redis is down ioredis reports the
 * same connection error on every reconnection attempt, and every request can time out the same
 * way; the first line says what is wrong, the rest would only bury other logs.
 */
export class LogLimiter {
  readonly #intervalMs: number
  readonly #now: () => number
  readonly #seen = new Map<string, { at: number, suppressed: number }>()

  constructor (intervalMs: number, now: () => number = Date.now) {
    this.#intervalMs = intervalMs
    this.#now = now
  }

  /**
   * Whether a line with this key may be written now: `undefined` if not (it is counted), or how
   * many lines with the key were held back since the last one written.
   */
  take (key: string): number | undefined {
    const now = this.#now()
    const seen = this.#seen.get(key)
    if (seen !== undefined && now - seen.at < this.#intervalMs) {
      seen.suppressed++
      return undefined
    }
    // Keys are error codes and messages, a handful in practice; bound them anyway.
    if (seen === undefined && this.#seen.size >= 100) this.#seen.clear()
    this.#seen.set(key, { at: now, suppressed: 0 })
    return seen?.suppressed ?? 0
  }

  /** Forgets every key, so the next occurrence is logged at once (after a recovery). */
  reset (): void {
    this.#seen.clear()
  }
}
