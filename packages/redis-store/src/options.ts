import type { Redis } from 'ioredis'
import { WaferError, type WaferLogger } from '@wafer/core'

export interface RedisStoreOptions {
  /** Where Redis listens (`redis://` or `rediss://`). Default `redis://127.0.0.1:6379`. Not with `client`. */
  url?: string
  /**
   * An ioredis client the application already has. The store uses it as it is configured and
   * never closes it. Not with `url`.
   */
  client?: Redis
  /** Prepended to every key; the runtime's keys are already `<filter>:<key>`. Default `"wafer:"`. */
  keyPrefix?: string
  /** Longest wait for one operation, connection wait included, in milliseconds. Default 200. */
  timeoutMs?: number
  /**
   * Most operations sent and not yet answered (timed-out ones count until Redis answers them).
   * Past it operations fail at once, so a stalled Redis cannot make memory grow. Default 1,000.
   */
  maxPending?: number
  /** A pino-like logger for connection loss, recovery and timeouts. Default: no logging. */
  logger?: WaferLogger
  /** Called for every failed operation, e.g. to count failures in metrics. */
  onError?: (op: string, err: Error) => void
  /**
   * Longest a Proxy-Wasm shared-data call (`proxy_get_shared_data` of a key not mirrored yet,
   * `proxy_set_shared_data`) blocks the event loop waiting for Redis, in milliseconds; past it
   * the filter gets INTERNAL_FAILURE. Default 50.
   */
  sharedDataTimeoutMs?: number
}

export interface ResolvedRedisStoreOptions {
  readonly url: string
  readonly client: Redis | undefined
  readonly keyPrefix: string
  readonly timeoutMs: number
  readonly maxPending: number
  readonly logger: WaferLogger | undefined
  readonly onError: ((op: string, err: Error) => void) | undefined
  readonly sharedDataTimeoutMs: number
}

export const defaultRedisStoreOptions = Object.freeze({
  url: 'redis://127.0.0.1:6379',
  keyPrefix: 'wafer:',
  timeoutMs: 200,
  maxPending: 1000,
  sharedDataTimeoutMs: 50
})

const KNOWN = ['url', 'client', 'keyPrefix', 'timeoutMs', 'maxPending', 'logger', 'onError', 'sharedDataTimeoutMs']
/** A shared-data call blocks the event loop: a bound past this one is a mistake. */
const MAX_SHARED_DATA_TIMEOUT_MS = 1000
const MAX_TIMER_MS = 2 ** 31 - 1
const LOG_METHODS = ['debug', 'info', 'warn', 'error'] as const

function invalid (message: string): never {
  throw new WaferError('WAFER_ERR_OPTIONS_INVALID', [`RedisStore ${message}`])
}

export function resolveRedisStoreOptions (options: RedisStoreOptions | undefined): ResolvedRedisStoreOptions {
  if (options === undefined) options = {}
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    invalid(`expected an options object, got ${describeValue(options)}`)
  }
  for (const key of Object.keys(options)) {
    if (!KNOWN.includes(key)) invalid(`unknown option "${key}"; known options: ${KNOWN.join(', ')}`)
  }
  const o = { ...defaultRedisStoreOptions, ...withoutUndefined(options) }

  if (options.url !== undefined && options.client !== undefined) {
    invalid('takes "url" or "client", not both: a given client already knows where Redis is')
  }
  if (typeof o.url !== 'string') invalid(`"url" must be a string, got ${describeValue(o.url)}`)
  checkUrl(o.url)
  if (options.client !== undefined && !isRedisClient(options.client)) {
    invalid(`"client" must be an ioredis client (new Redis(...)), got ${describeValue(options.client)}`)
  }
  if (typeof o.keyPrefix !== 'string') invalid(`"keyPrefix" must be a string, got ${describeValue(o.keyPrefix)}`)
  if (!Number.isInteger(o.timeoutMs) || o.timeoutMs < 1 || o.timeoutMs > MAX_TIMER_MS) {
    invalid(`"timeoutMs" must be an integer from 1 to ${MAX_TIMER_MS} (milliseconds), got ${describeValue(o.timeoutMs)}`)
  }
  if (!Number.isInteger(o.sharedDataTimeoutMs) || o.sharedDataTimeoutMs < 1 || o.sharedDataTimeoutMs > MAX_SHARED_DATA_TIMEOUT_MS) {
    invalid(`"sharedDataTimeoutMs" must be an integer from 1 to ${MAX_SHARED_DATA_TIMEOUT_MS} (milliseconds: it blocks the event loop), got ${describeValue(o.sharedDataTimeoutMs)}`)
  }
  if (!Number.isInteger(o.maxPending) || o.maxPending < 1) {
    invalid(`"maxPending" must be a positive integer, got ${describeValue(o.maxPending)}`)
  }
  const logger = options.logger
  if (logger !== undefined && (typeof logger !== 'object' || logger === null || !LOG_METHODS.every((m) => typeof logger[m] === 'function'))) {
    invalid(`"logger" must be a pino-like logger with ${LOG_METHODS.join(', ')} methods, got ${describeValue(logger)}`)
  }
  if (options.onError !== undefined && typeof options.onError !== 'function') {
    invalid(`"onError" must be a function (op, err) => void, got ${describeValue(options.onError)}`)
  }
  return Object.freeze({
    url: o.url,
    client: options.client,
    keyPrefix: o.keyPrefix,
    timeoutMs: o.timeoutMs,
    maxPending: o.maxPending,
    logger,
    onError: options.onError,
    sharedDataTimeoutMs: o.sharedDataTimeoutMs
  })
}

/** The URL without its credentials, for logs and error messages. */
export function redactUrl (url: string): string {
  const u = new URL(url)
  u.username = ''
  u.password = ''
  return u.toString()
}

function checkUrl (url: string): void {
  let parsed: URL
  try {
    parsed = new URL(url)
  } catch {
    // The text may hold a password, so it is not echoed back.
    invalid('"url" must be a redis:// or rediss:// URL, got a string that is not a URL')
  }
  if (parsed.protocol !== 'redis:' && parsed.protocol !== 'rediss:') {
    invalid(`"url" must be a redis:// or rediss:// URL, got a ${parsed.protocol}// URL`)
  }
}

function isRedisClient (value: unknown): value is Redis {
  if (typeof value !== 'object' || value === null) return false
  const c = value as Record<string, unknown>
  return typeof c.status === 'string' && typeof c.on === 'function' && typeof c.getBuffer === 'function' && typeof c.evalsha === 'function'
}

function withoutUndefined<T extends object> (o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>
}

function describeValue (v: unknown): string {
  if (v === null) return 'null'
  if (Array.isArray(v)) return 'an array'
  if (typeof v === 'string') return JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}...` : v)
  if (typeof v === 'object') return 'an object'
  if (typeof v === 'function') return 'a function'
  return String(v)
}
