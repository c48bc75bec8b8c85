import { Redis, type RedisOptions } from 'ioredis'
import type { CounterResult, IncrOptions, KvStore, SetOptions, SharedData, SharedDataProvider, WaferLogger } from '@wafer/core'
import { ConnectionMonitor } from './connection-monitor.js'
import { INCR_SCRIPT, INCR_SCRIPT_SHA } from './incr-script.js'
import { LogLimiter } from './log-limiter.js'
import { redactUrl, resolveRedisStoreOptions, type RedisStoreOptions, type ResolvedRedisStoreOptions } from './options.js'
import { RedisStoreError } from './redis-store-error.js'
import { RedisSharedData } from './shared-data.js'

/** Reconnection backoff: 50 ms, doubling, at most 2 s between attempts, forever. */
const RECONNECT_FIRST_MS = 50
const RECONNECT_MAX_MS = 2000
/** How long close() lets the server close the socket before destroying it. */
const DISCONNECT_MAX_MS = 200
/** A repeated warning (same connection error, more timeouts) is written at most this often. */
const LOG_INTERVAL_MS = 60_000
/** Redis rejects an expiry past the end of its clock; this is 285,000 years. */
const MAX_TTL_MS = Number.MAX_SAFE_INTEGER

const noop = (): void => {}

/**
 * The key-value store in Redis, so that several processes or machines share rate-limit counters.
 * Same semantics as MemoryStore; `incr` is one Lua script, atomic on the server.
 *
 * No operation waits longer than `timeoutMs`. A command is only sent on a ready connection: while
 * the connection is being (re)established an operation waits for it within its time budget, and
 * while ioredis is waiting to retry (Redis is down) it fails at once. Nothing is queued offline,
 * so nothing runs late against a Redis that comes back.
 */
export class RedisStore implements KvStore, SharedDataProvider {
  readonly #o: ResolvedRedisStoreOptions
  readonly #client: Redis
  readonly #owned: boolean
  readonly #log: WaferLogger | undefined
  readonly #limiter = new LogLimiter(LOG_INTERVAL_MS)
  readonly #monitor: ConnectionMonitor
  #pending = 0
  #ready: Promise<boolean> | undefined
  #closed = false
  #shared: RedisSharedData | undefined

  constructor (options?: RedisStoreOptions) {
    const o = resolveRedisStoreOptions(options)
    this.#o = o
    this.#log = o.logger?.child?.({ store: 'redis' }) ?? o.logger
    this.#owned = o.client === undefined
    this.#client = o.client ?? new Redis(o.url, {
      // Fail instead of queueing while disconnected; and reject, rather than replay after the
      // reconnection, commands in flight when the connection drops (an incr replayed late
      // could count twice). See docs/scaling.md.
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      // After close(), ioredis waits this long for a socket that may already be dead before
      // destroying it, and the timer holds the process open (default 2 s).
      disconnectTimeout: Math.min(o.timeoutMs, DISCONNECT_MAX_MS),
      retryStrategy: (attempt: number) => Math.min(RECONNECT_FIRST_MS * 2 ** (attempt - 1), RECONNECT_MAX_MS)
    })
    this.#monitor = new ConnectionMonitor(this.#client, this.#log, this.#limiter, this.#owned ? redactUrl(o.url) : describeClient(this.#client))
  }

  async get (key: string): Promise<Uint8Array | undefined> {
    const k = this.#o.keyPrefix + key
    return await this.#run('get', async () => (await this.#client.getBuffer(k)) ?? undefined)
  }

  async set (key: string, value: Uint8Array, options: SetOptions = {}): Promise<void> {
    const k = this.#o.keyPrefix + key
    // Copied now: the command may only be written once the connection is ready.
    const v = Buffer.from(value)
    const ttl = ttlArg(options.ttlMs)
    await this.#run('set', async () => {
      if (ttl > 0) await this.#client.set(k, v, 'PX', ttl)
      else await this.#client.set(k, v)
    })
  }

  async incr (key: string, options: IncrOptions = {}): Promise<CounterResult> {
    const by = options.by ?? 1
    if (!Number.isSafeInteger(by)) throw new TypeError(`incr "by" must be an integer, got ${String(by)}`)
    const k = this.#o.keyPrefix + key
    const ttl = ttlArg(options.ttlMs)
    return await this.#run('incr', async () => counterResult(await this.#evalIncr(k, by, ttl)))
  }

  async delete (key: string): Promise<boolean> {
    const k = this.#o.keyPrefix + key
    return await this.#run('delete', async () => (await this.#client.del(k)) > 0)
  }

  /**
   * Proxy-Wasm shared data in this Redis, shared by every process on it (docs/proxy-wasm.md,
   * "Shared data across processes"). Wafer calls it when a Proxy-Wasm filter uses shared data;
   * the first call starts a worker thread with its own connection and a subscription.
   */
  sharedData (): SharedData {
    this.#shared ??= new RedisSharedData({
      client: this.#client,
      connection: this.#owned ? this.#o.url : connectionOf(this.#client),
      keyPrefix: this.#o.keyPrefix,
      timeoutMs: this.#o.sharedDataTimeoutMs,
      log: this.#log,
      limiter: this.#limiter,
      onError: this.#o.onError
    })
    return this.#shared
  }

  /** Quits the connection if the store opened it; a client given in the options is left open. */
  async close (): Promise<void> {
    if (this.#closed) return
    this.#closed = true
    await this.#shared?.close()
    this.#monitor.closing()
    if (!this.#owned) {
      this.#monitor.detach()
      return
    }
    if (this.#client.status !== 'ready') {
      this.#client.disconnect()
      return
    }
    let timer: NodeJS.Timeout | undefined
    const timeout = new Promise<never>((_resolve, reject) => {
      timer = setTimeout(() => { reject(new Error('quit timed out')) }, this.#o.timeoutMs)
    })
    try {
      await Promise.race([this.#client.quit(), timeout])
    } catch {
      this.#client.disconnect()
    } finally {
      clearTimeout(timer)
    }
  }

  async #evalIncr (key: string, by: number, ttl: number): Promise<unknown> {
    try {
      return await this.#client.evalsha(INCR_SCRIPT_SHA, 1, key, by, ttl)
    } catch (err) {
      // The script cache is empty after a restart or SCRIPT FLUSH; EVAL loads it again.
      if (!(err instanceof Error && err.message.startsWith('NOSCRIPT'))) throw err
      return await this.#client.eval(INCR_SCRIPT, 1, key, by, ttl)
    }
  }

  async #run<T> (op: string, send: () => Promise<T>): Promise<T> {
    const { timeoutMs, maxPending } = this.#o
    let sent = false
    let timer: NodeJS.Timeout | undefined
    const deadline = new Promise<never>((_resolve, reject) => {
      timer = setTimeout(() => {
        reject(sent
          ? new RedisStoreError('timeout', `Redis did not answer ${op} within ${timeoutMs} ms (timeoutMs); it may still be applied`, { sent })
          : new RedisStoreError('timeout', `no Redis connection within ${timeoutMs} ms (timeoutMs); ${op} was not sent`, { sent }))
      }, timeoutMs)
    })
    try {
      if (this.#closed) throw new RedisStoreError('closed', `the Redis store is closed; ${op} was not sent`, { sent })
      if (this.#client.status !== 'ready' && !(await Promise.race([this.#connected(), deadline]))) {
        throw new RedisStoreError('unavailable', `Redis is not connected (${this.#client.status}); ${op} was not sent`, { sent })
      }
      if (this.#pending >= maxPending) {
        throw new RedisStoreError('overloaded', `${this.#pending} Redis operations are waiting for an answer (maxPending); ${op} was not sent`, { sent })
      }
      this.#pending++
      sent = true
      const answer = send().then(
        (value) => { this.#pending--; return value },
        (err: unknown) => { this.#pending--; throw connectionFailure(err, op) }
      )
      return await Promise.race([answer, deadline])
    } catch (err) {
      this.#failed(op, err instanceof Error ? err : new Error(String(err)))
      throw err
    } finally {
      clearTimeout(timer)
    }
  }

  /**
   * Resolves to true once the connection is ready, or false as soon as it is known not to be:
   * the attempt in progress failed, or ioredis is only waiting to retry.
   */
  #connected (): Promise<boolean> {
    const client = this.#client
    const status = client.status
    // A lazyConnect client given by the application connects on first use, as ioredis would.
    if (status === 'wait') client.connect().catch(noop)
    else if (status !== 'connecting' && status !== 'connect') return Promise.resolve(false)
    // One shared waiter, not a listener per operation.
    this.#ready ??= new Promise<boolean>((resolve) => {
      const settle = (ready: boolean): void => {
        client.off('ready', onReady)
        client.off('close', onClose)
        client.off('end', onClose)
        this.#ready = undefined
        resolve(ready)
      }
      const onReady = (): void => { settle(true) }
      const onClose = (): void => { settle(false) }
      client.on('ready', onReady)
      client.on('close', onClose)
      client.on('end', onClose)
    })
    return this.#ready
  }

  #failed (op: string, err: Error): void {
    try {
      this.#o.onError?.(op, err)
    } catch (hookErr) {
      this.#log?.error({ err: hookErr }, 'the RedisStore onError hook threw')
    }
    // Connection loss is logged by the monitor; a slow or saturated Redis only shows here.
    if (err instanceof RedisStoreError && (err.reason === 'timeout' || err.reason === 'overloaded')) {
      const suppressed = this.#limiter.take(`op:${err.reason}`)
      if (suppressed !== undefined) this.#log?.warn({ op, suppressed, err }, `Redis store operations are failing: ${err.message}`)
    }
  }
}

/** MemoryStore's reading of a TTL: absent, 0, negative, NaN or infinite mean no expiry. */
function ttlArg (ms: number | undefined): number {
  if (ms === undefined || !(ms > 0) || ms === Infinity) return 0
  return Math.min(Math.ceil(ms), MAX_TTL_MS)
}

function counterResult (reply: unknown): CounterResult {
  if (!Array.isArray(reply) || typeof reply[0] !== 'number' || typeof reply[1] !== 'number') {
    throw new Error(`unexpected reply from the Redis incr script: ${JSON.stringify(reply)}`)
  }
  // PTTL is -2 if the key vanished in between, impossible inside a script; -1 means no expiry.
  return { value: reply[0], ttlMs: reply[1] < 0 ? -1 : reply[1] }
}

/**
 * ioredis' own connection errors, reworded as the store's. With maxRetriesPerRequest 0 it
 * rejects the commands in flight when the connection drops; and between the socket closing and
 * ioredis noticing, the status is still `ready` but nothing can be written.
 */
function connectionFailure (err: unknown, op: string): unknown {
  if (!(err instanceof Error)) return err
  if (err.name === 'MaxRetriesPerRequestError' || err.message === 'Connection is closed.') {
    return new RedisStoreError('unavailable', `the Redis connection was lost before it answered ${op}; it may or may not have been applied`, { sent: true, cause: err })
  }
  if (err.message.startsWith("Stream isn't writeable")) {
    return new RedisStoreError('unavailable', `Redis is not connected (closing); ${op} was not sent`, { sent: false, cause: err })
  }
  return err
}

/** What a worker thread needs to open its own connection like `client`'s (no functions: they cannot cross threads). */
function connectionOf (client: Redis): RedisOptions {
  const o = client.options as Record<string, unknown>
  const out: Record<string, unknown> = {}
  for (const k of ['host', 'port', 'path', 'family', 'username', 'password', 'db', 'connectTimeout']) {
    if (o[k] !== undefined && o[k] !== null) out[k] = o[k]
  }
  if (typeof o.tls === 'object' && o.tls !== null) {
    out.tls = Object.fromEntries(Object.entries(o.tls).filter(([, v]) => typeof v !== 'function'))
  }
  return out as RedisOptions
}

function describeClient (client: Redis): string {
  const o = client.options as { host?: string, port?: number, path?: string | null } | undefined
  if (o === undefined) return 'redis'
  return typeof o.path === 'string' && o.path !== '' ? o.path : `${o.host ?? 'localhost'}:${o.port ?? 6379}`
}
