export interface LogFn {
  (obj: object, msg?: string): void
  (msg: string): void
}

/**
 * The logging surface Wafer uses: a subset of pino's, which Fastify's `request.log` and any
 * pino logger provide. Request loggers should carry the request id (Fastify's do, as `reqId`).
 */
export interface WaferLogger {
  trace: LogFn
  debug: LogFn
  info: LogFn
  warn: LogFn
  error: LogFn
  child (bindings: Record<string, unknown>): WaferLogger
  /** pino's level check; when present, debug lines are only built if they will be written. */
  isLevelEnabled? (level: string): boolean
}
