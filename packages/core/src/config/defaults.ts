/**
 * Every default, in one place: the config file's, a filter's (whether declared in a config file
 * or passed to createWafer), the runtime's and the adapters'. The schemas (schema.ts,
 * options-schema.ts) document the same values, and every resolver fills absent keys from here.
 */
/** A config file's reload.drainTimeoutMs and createWafer's drainTimeoutMs are one setting. */
const drainTimeoutMs = 30000

export const configDefaults = Object.freeze({
  server: Object.freeze({
    host: '127.0.0.1',
    port: 8080,
    bodyLimit: 1048576,
    headerLimit: 16384,
    logLevel: 'info' as const,
    shutdownTimeoutMs: 10000
  }),
  admin: Object.freeze({ enabled: true, host: '127.0.0.1', port: 9901 }),
  reload: Object.freeze({ watch: true, debounceMs: 250, drainTimeoutMs }),
  /** createWafer's own options. */
  runtime: Object.freeze({ moduleCacheSize: 64, drainTimeoutMs }),
  /** The Fastify plugin's and the Express middleware's own options. */
  adapter: Object.freeze({ watch: false, bodyLimit: 1048576, responseBodyLimit: 1048576, maxWaiting: 1024 }),
  state: Object.freeze({ maxKeys: 100000, keyPrefix: 'wafer:', timeoutMs: 200, sharedDataTimeoutMs: 50 }),
  filter: Object.freeze({
    config: Object.freeze({}),
    failurePolicy: 'fail-closed' as const,
    pool: Object.freeze({ min: 1, max: 8, maxWaiting: 1024, acquireTimeoutMs: 5000, maxUses: 0 }),
    limits: Object.freeze({ fuel: 50_000_000, timeoutMs: 10_000, maxResumes: 64, maxOutputBytes: 1024 * 1024 }),
    breaker: Object.freeze({ failures: 5, cooldownMs: 10_000 })
  }),
  entry: Object.freeze({ enabled: true }),
  match: Object.freeze({ type: 'prefix' as const }),
  upstream: Object.freeze({ timeoutMs: 30000 }),
  respond: Object.freeze({ status: 200, body: '' })
})

/** Filter and chain names: they prefix key-value keys (`name:key`) and appear in logs. */
export const NAME_PATTERN = '^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$'
export const NAME_MAX = 64
/** Largest delay Node.js timers honour; longer ones fire at once. */
export const TIMER_MAX = 2147483647

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const
export const CAPABILITIES = ['kv', 'log', 'clock', 'random', 'http'] as const
export const FAILURE_POLICIES = ['fail-closed', 'fail-open'] as const
export const MATCH_TYPES = ['prefix', 'exact', 'pattern'] as const
/** The methods Fastify 5 routes by default. */
export const HTTP_METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'OPTIONS', 'PATCH', 'TRACE', 'QUERY'] as const
