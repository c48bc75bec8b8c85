import type { WaferLogger } from '../logger.js'

export type HeaderValue = string | string[]
/** Lower-case header name -> value, as Node.js delivers `IncomingMessage#headers`. */
export type Headers = Record<string, HeaderValue | undefined>
export type ResponseHeaderValue = string | string[] | number
export type ResponseHeaders = Record<string, ResponseHeaderValue | undefined>

export interface ExchangeInit {
  id: string
  method: string
  /** The request target as received: path plus optional `?query`. */
  url: string
  /** Mutated in place by filters, so the route sees the filtered headers. Pass the framework's object. */
  headers: Headers
  /**
   * The client's address as the framework reports it. Optional: an adapter whose framework
   * computes it (a trusted proxy's X-Forwarded-For) leaves it out and overrides
   * `Exchange#clientAddress`, so it is computed only when a filter asks.
   */
  remoteAddress?: string | undefined
  log: WaferLogger
  /**
   * The connection the request came on (pass the framework's socket): read only when a filter
   * asks for a port or the local address (Proxy-Wasm properties), never per request.
   */
  connection?: ConnectionInfo | undefined
}

/** What Wafer may read of a request's connection; a node:net Socket is one. */
export interface ConnectionInfo {
  readonly remotePort?: number | undefined
  readonly localAddress?: string | undefined
  readonly localPort?: number | undefined
}

/**
 * The reply as the response phase sees and changes it. Adapters set a `LiveResponse`
 * (response-state.ts), which reads the framework's reply one header at a time; a plain object
 * is a reply whose every header is given.
 */
export interface ResponseState {
  status: number
  /** Every header. On a `LiveResponse`, reading this takes the whole list from the reply. */
  headers: ResponseHeaders
  /** `undefined` when the filters in this chain did not ask for the body. */
  body: Buffer | undefined
  /** Set by any change, so the adapter writes back only what changed. */
  changed: boolean
  bodyChanged: boolean
}

/**
 * The framework-neutral view of one request as it passes through a chain. Adapters create one
 * per request and read back what filters changed (`pathChanged`, `queryChanged`, `body`).
 *
 * It holds the framework's own objects (the headers are mutated in place) and encodes nothing:
 * filters read and change it through the request context (request-context.ts).
 */
export class Exchange {
  readonly id: string
  readonly method: string
  path: string
  query: string
  readonly headers: Headers
  #remoteAddress: string | undefined
  readonly log: WaferLogger
  /** The request's connection, when the adapter gave it (ExchangeInit#connection). */
  readonly connection: ConnectionInfo | undefined
  /** The request body, when a filter that needs it has run. */
  body: Buffer | undefined
  pathChanged = false
  queryChanged = false
  bodyChanged = false
  /** How many chain entries the request phase passed; the response phase runs these, in reverse. */
  reached = 0
  response: ResponseState | undefined
  /**
   * Headers request-phase filters asked to set on the response, whoever produces it: the route,
   * the upstream or a later filter. The adapter puts them on the reply when the request phase
   * ends and clears this.
   */
  responseHeaders: Record<string, HeaderValue> | undefined
  /** A filter closed the stream (`CLOSE_STREAM`): the adapter resets the connection instead of answering. */
  closed = false

  constructor (init: ExchangeInit) {
    this.id = init.id
    this.method = init.method
    const q = init.url.indexOf('?')
    this.path = q === -1 ? init.url : init.url.slice(0, q)
    this.query = q === -1 ? '' : init.url.slice(q + 1)
    this.headers = init.headers
    this.#remoteAddress = init.remoteAddress
    this.log = init.log
    this.connection = init.connection
  }

  /** The client's address: as given, or read once from `clientAddress()` when a filter first asks. */
  get remoteAddress (): string {
    return (this.#remoteAddress ??= this.clientAddress())
  }

  /** The client's address when the adapter gave none: adapters read it from their framework ('' if unknown). */
  protected clientAddress (): string {
    return ''
  }

  /** The request target after filters: path plus `?query` when there is one. */
  get url (): string {
    return this.query === '' ? this.path : `${this.path}?${this.query}`
  }

  /** Sets one header (a lower-case name), replacing its value. */
  setHeader (name: string, value: HeaderValue): void {
    this.headers[name] = value
  }

  /**
   * Removes one header (a lower-case name). The property is set to undefined, not deleted:
   * deleting a property of Node's header object turns it into a slow dictionary for the rest of
   * the request. Node.js, undici, Fastify and Wafer read an undefined header as absent.
   */
  removeHeader (name: string): void {
    if (this.headers[name] !== undefined) this.headers[name] = undefined
  }

  /** Sets the path and/or the query (without `?`), flagging what changed for the adapter. */
  setTarget (path: string | undefined, query: string | undefined): void {
    if (path !== undefined && path !== this.path) {
      this.path = path
      this.pathChanged = true
    }
    if (query !== undefined && query !== this.query) {
      this.query = query
      this.queryChanged = true
    }
  }
}
