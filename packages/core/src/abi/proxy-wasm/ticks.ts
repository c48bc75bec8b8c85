/**
 * The tick timer of one instance's root context (`proxy_set_tick_period_milliseconds`,
 * docs/proxy-wasm.md "Timers"): one period at a time, 0 stops it. The timer never keeps the
 * process alive; the instance stops it when it is let go.
 */
export class Ticker {
  readonly #fire: () => void
  #timer: NodeJS.Timeout | undefined

  constructor (fire: () => void) {
    this.#fire = fire
  }

  /** A period is set: something will call the guest back. */
  get active (): boolean {
    return this.#timer !== undefined
  }

  /** Replaces the period; 0 stops the ticks. */
  set (ms: number): void {
    this.stop()
    if (ms === 0) return
    this.#timer = setInterval(this.#fire, ms)
    this.#timer.unref()
  }

  stop (): void {
    if (this.#timer !== undefined) clearInterval(this.#timer)
    this.#timer = undefined
  }
}
