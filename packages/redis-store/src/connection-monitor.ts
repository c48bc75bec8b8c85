import type { Redis } from 'ioredis'
import type { WaferLogger } from '@wafer/core'
import type { LogLimiter } from './log-limiter.js'

/**
 * Logs what happens to the connection: one warning when it is lost, connection errors at most
 * once a minute each (ioredis reports one per reconnection attempt), and one info line when it
 * is back, with how long it was down. The listeners also stop ioredis from printing unhandled
 * `error` events to the console.
 */
export class ConnectionMonitor {
  readonly #client: Redis
  readonly #log: WaferLogger | undefined
  readonly #limiter: LogLimiter
  readonly #where: string
  readonly #listeners: Array<[string, (...args: any[]) => void]>
  #everReady = false
  #lostAt: number | undefined
  #attempts = 0
  #closing = false

  constructor (client: Redis, log: WaferLogger | undefined, limiter: LogLimiter, where: string) {
    this.#client = client
    this.#log = log
    this.#limiter = limiter
    this.#where = where
    this.#listeners = [
      ['ready', () => { this.#ready() }],
      ['close', () => { this.#closed() }],
      ['reconnecting', (delayMs: number) => { this.#reconnecting(delayMs) }],
      ['error', (err: Error) => { this.#error(err) }],
      ['end', () => { this.#end() }]
    ]
    for (const [event, fn] of this.#listeners) client.on(event, fn)
    // A client handed over already connected never emits `ready` again.
    if (client.status === 'ready') this.#everReady = true
  }

  /** The store is closing the connection on purpose: that is not worth a warning. */
  closing (): void {
    this.#closing = true
  }

  detach (): void {
    for (const [event, fn] of this.#listeners) this.#client.off(event, fn)
  }

  #ready (): void {
    if (this.#lostAt !== undefined) {
      const downMs = Date.now() - this.#lostAt
      const msg = this.#everReady ? `Redis connection restored after ${downMs} ms` : `connected to Redis after ${downMs} ms of retrying`
      this.#log?.info({ redis: this.#where, downMs, attempts: this.#attempts }, msg)
      this.#lostAt = undefined
    } else if (!this.#everReady) {
      this.#log?.info({ redis: this.#where }, 'connected to Redis')
    }
    this.#everReady = true
    this.#attempts = 0
    this.#limiter.reset()
  }

  #closed (): void {
    if (this.#closing || this.#lostAt !== undefined) return
    this.#lostAt = Date.now()
    if (this.#everReady) {
      this.#log?.warn({ redis: this.#where }, 'Redis connection lost; reconnecting (store operations fail until it is back)')
    } else {
      this.#log?.warn({ redis: this.#where }, 'cannot connect to Redis; retrying (store operations fail until it connects)')
    }
  }

  #reconnecting (delayMs: number): void {
    this.#attempts++
    this.#log?.debug({ redis: this.#where, delayMs, attempt: this.#attempts }, `reconnecting to Redis in ${delayMs} ms`)
  }

  #error (err: Error): void {
    if (this.#closing) return
    const code = (err as { code?: unknown }).code
    const suppressed = this.#limiter.take(`error:${typeof code === 'string' ? code : err.message}`)
    if (suppressed === undefined) return
    this.#log?.warn({ redis: this.#where, err, suppressed }, `Redis connection error: ${err.message}`)
  }

  #end (): void {
    if (this.#closing) return
    this.#log?.error({ redis: this.#where }, 'Redis connection ended and will not be retried; store operations will fail')
  }
}
