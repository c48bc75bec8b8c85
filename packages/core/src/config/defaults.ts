/** Every default of the config file, in one place; the schema documents the same values. */
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
  reload: Object.freeze({ watch: true, debounceMs: 250, drainTimeoutMs: 30000 }),
  state: Object.freeze({ maxKeys: 100000, keyPrefix: 'wafer:', timeoutMs: 200 }),
  filter: Object.freeze({ config: Object.freeze({}), failurePolicy: 'fail-closed' as const }),
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
export const MATCH_TYPES = ['prefix', 'exact', 'pattern'] as const
/** The methods Fastify 5 routes by default. */
export const HTTP_METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'OPTIONS', 'PATCH', 'TRACE', 'QUERY'] as const
