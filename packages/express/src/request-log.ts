import type { IncomingMessage } from 'node:http'
import type { LogFn, WaferLogger } from '@wafer/core'

/**
 * A request's logger: a child of the app's logger carrying `reqId`, as Fastify's `request.log`
 * does. The child is made on the first line written, so a request that logs nothing (the
 * common case) costs no pino child; level checks go to the parent.
 */
export class RequestLog implements WaferLogger {
  readonly #parent: WaferLogger
  readonly #reqId: string
  #child: WaferLogger | undefined

  constructor (parent: WaferLogger, reqId: string) {
    this.#parent = parent
    this.#reqId = reqId
  }

  #log (): WaferLogger {
    this.#child ??= this.#parent.child({ reqId: this.#reqId })
    return this.#child
  }

  trace: LogFn = (a: object | string, msg?: string) => { forward(this.#log(), 'trace', a, msg) }
  debug: LogFn = (a: object | string, msg?: string) => { forward(this.#log(), 'debug', a, msg) }
  info: LogFn = (a: object | string, msg?: string) => { forward(this.#log(), 'info', a, msg) }
  warn: LogFn = (a: object | string, msg?: string) => { forward(this.#log(), 'warn', a, msg) }
  error: LogFn = (a: object | string, msg?: string) => { forward(this.#log(), 'error', a, msg) }

  child (bindings: Record<string, unknown>): WaferLogger {
    return this.#log().child(bindings)
  }

  isLevelEnabled (level: string): boolean {
    return this.#parent.isLevelEnabled?.(level) ?? true
  }
}

function forward (log: WaferLogger, level: 'trace' | 'debug' | 'info' | 'warn' | 'error', a: object | string, msg?: string): void {
  if (typeof a === 'string') log[level](a)
  else if (msg === undefined) log[level](a)
  else log[level](a, msg)
}

/**
 * Request ids like Fastify's (`req-1`, `req-2`, ... in base 36), unless a logger middleware
 * such as pino-http already gave the request an `id`: then log lines of both agree.
 */
export function requestIds (): (req: IncomingMessage) => string {
  let next = 0
  return (req) => {
    const existing = (req as { id?: unknown }).id
    if (typeof existing === 'string' || typeof existing === 'number') return String(existing)
    next = (next + 1) & 0x7fffffff
    return `req-${next.toString(36)}`
  }
}
