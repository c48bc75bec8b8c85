import { isUtf8 } from 'node:buffer'
import type { WaferLogger } from '../logger.js'
import { headersJson, memberJson, quote } from './json-text.js'

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
  remoteAddress: string
  log: WaferLogger
}

/** The reply as the response phase sees and changes it. */
export interface ResponseState {
  status: number
  headers: ResponseHeaders
  /** `undefined` when the filters in this chain did not ask for the body. */
  body: Buffer | undefined
  /** Set by response patches, so the adapter writes back only what changed. */
  changed: boolean
  bodyChanged: boolean
}

/**
 * The framework-neutral view of one request as it passes through a chain. Adapters create one
 * per request and read back what filters changed (`pathChanged`, `queryChanged`, `body`).
 *
 * Encoded forms of the request are cached and invalidated by `touch()`, so a chain of filters
 * that change nothing encodes the request once.
 */
export class Exchange {
  readonly id: string
  readonly method: string
  path: string
  query: string
  readonly headers: Headers
  readonly remoteAddress: string
  readonly log: WaferLogger
  /** The request body, when a filter that needs it has run. */
  body: Buffer | undefined
  pathChanged = false
  queryChanged = false
  bodyChanged = false
  /** How many chain entries the request phase passed; the response phase runs these, in reverse. */
  reached = 0
  response: ResponseState | undefined
  /**
   * Headers request-phase filters asked to set on the response (a patch's `setResponseHeaders`),
   * whoever produces it: the route, the upstream or a later filter. The adapter puts them on
   * the reply when the request phase ends and clears this.
   */
  responseHeaders: Record<string, HeaderValue> | undefined

  // The request encoding in three cached parts, so a patch re-encodes only what it changed:
  // `{"id":...,"remoteAddress":...,"headers":` (path and query), the headers object, and the
  // two joined. A header set that adds new names appends to the headers part.
  #head: string | undefined
  #headersJson: string | undefined
  #json: string | undefined
  #bytes: Buffer | undefined
  #bytesWithBody: Buffer | undefined

  constructor (init: ExchangeInit) {
    this.id = init.id
    this.method = init.method
    const q = init.url.indexOf('?')
    this.path = q === -1 ? init.url : init.url.slice(0, q)
    this.query = q === -1 ? '' : init.url.slice(q + 1)
    this.headers = init.headers
    this.remoteAddress = init.remoteAddress
    this.log = init.log
  }

  /** The request target after filters: path plus `?query` when there is one. */
  get url (): string {
    return this.query === '' ? this.path : `${this.path}?${this.query}`
  }

  /** Drops every cached encoding: for changes made other than through the methods below. */
  touch (): void {
    this.#head = undefined
    this.#headersJson = undefined
    this.#dropJoined()
  }

  /** Removes headers (lower-case names). */
  removeHeaders (names: readonly string[]): void {
    const headers = this.headers
    for (const name of names) {
      if (headers[name] === undefined) continue
      delete headers[name]
      this.#headersJson = undefined
    }
    this.#dropJoined()
  }

  /** Sets one header (a lower-case name), replacing its value. */
  setHeader (name: string, value: HeaderValue): void {
    this.headers[name] = value
    this.#headersJson = undefined
    this.#dropJoined()
  }

  /** Removes one header (a lower-case name). */
  removeHeader (name: string): void {
    if (this.headers[name] === undefined) return
    delete this.headers[name]
    this.#headersJson = undefined
    this.#dropJoined()
  }

  /** Sets headers (lower-case names), replacing existing values. */
  setHeaders (set: Readonly<Record<string, HeaderValue>>): void {
    const headers = this.headers
    // New names are appended to the cached headers text; replacing a value re-encodes it.
    let appended = this.#headersJson === undefined ? undefined : ''
    for (const name in set) {
      const value = set[name] as HeaderValue
      if (headers[name] !== undefined) appended = undefined
      else if (appended !== undefined) appended += (appended === '' ? '' : ',') + memberJson(name, value)
      headers[name] = value
    }
    const cached = this.#headersJson
    if (appended === undefined) this.#headersJson = undefined
    else if (appended !== '' && cached !== undefined) this.#headersJson = cached.length === 2 ? '{' + appended + '}' : cached.slice(0, -1) + ',' + appended + '}'
    this.#dropJoined()
  }

  /** Sets the path and/or the query (without `?`), flagging what changed for the adapter. */
  setTarget (path: string | undefined, query: string | undefined): void {
    if (path !== undefined && path !== this.path) {
      this.path = path
      this.pathChanged = true
      this.#head = undefined
    }
    if (query !== undefined && query !== this.query) {
      this.query = query
      this.queryChanged = true
      this.#head = undefined
    }
    this.#dropJoined()
  }

  /** Drops the joined encodings; the parts that are still valid stay cached. */
  #dropJoined (): void {
    this.#json = undefined
    this.#bytes = undefined
    this.#bytesWithBody = undefined
  }

  /** The request as JSON without the body: the shared prefix of every encoding. */
  requestJson (): string {
    if (this.#json === undefined) {
      this.#head ??= '{"id":' + quote(this.id) +
        ',"method":' + quote(this.method) +
        ',"path":' + quote(this.path) +
        ',"query":' + quote(this.query) +
        ',"remoteAddress":' + quote(this.remoteAddress) +
        ',"headers":'
      this.#headersJson ??= headersJson(this.headers)
      this.#json = this.#head + this.#headersJson + '}'
    }
    return this.#json
  }

  /**
   * The request phase input (native ABI, docs/abi.md section 5) as UTF-8 bytes, cached until
   * the request changes: filters that change nothing share one encoding, and each of their calls
   * costs a copy into guest memory.
   */
  requestInput (withBody: boolean): Buffer {
    if (!withBody || this.body === undefined) {
      this.#bytes ??= Buffer.from(this.requestJson(), 'utf8')
      return this.#bytes
    }
    this.#bytesWithBody ??= Buffer.from(this.requestJson().slice(0, -1) + bodyField(this.body) + '}', 'utf8')
    return this.#bytesWithBody
  }

  /** The response phase input. Not cached: response filters rarely leave it unchanged for long. */
  responseInput (withBody: boolean): Buffer {
    const res = this.response
    if (res === undefined) throw new Error('responseInput() called before the response phase')
    let json = '{"status":' + res.status + ',"headers":' + headersJson(res.headers) + ',"request":' + this.requestJson()
    if (withBody && res.body !== undefined) json += bodyField(res.body)
    return Buffer.from(json + '}', 'utf8')
  }
}

function bodyField (body: Buffer): string {
  return isUtf8(body)
    ? ',"body":' + quote(body.toString('utf8'))
    : ',"bodyBase64":"' + body.toString('base64') + '"'
}
