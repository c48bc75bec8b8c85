import type { Exchange, HeaderValue, ResponseHeaderValue, ResponseState } from './exchange.js'
import { editReplyHeader, replyHeader, replyHeaderNames } from './response-state.js'
import { fieldValueProblem } from './field-syntax.js'
import { PRODUCER_HEADERS, replaceResponse, type LocalResponse } from './decision.js'
import { isRefusal, normalizePath, queryRefusal } from './request-target.js'

/**
 * The request context: the framework-neutral primitives every host-call ABI's glue calls (native
 * v2 now, Proxy-Wasm next). The glue checks guest pointers and moves bytes; this layer owns what
 * a read means and whether a write is allowed, and applies writes to the request the adapter
 * holds (an `Exchange`). One `FilterCall` per guest instance is reused for every phase it runs,
 * so a request costs no allocation here beyond the values a filter reads or writes.
 *
 * Outcomes are numbers, not exceptions, so the glue can hand them to the guest: `UNAVAILABLE`
 * (not in this phase, or a body the filter did not declare), `NOT_FOUND`, `INVALID` (a write the
 * host refuses; `problem` says why).
 */
export const UNAVAILABLE = -3
export const NOT_FOUND = -4
export const INVALID = -5

/** Header maps a filter can address (docs/abi.md section 4). */
export const enum HeaderMap { Request = 0, Response = 1, Local = 2, ResponseAdd = 3 }
/** Request and reply fields (docs/abi.md section 4). */
export const enum Field { Method = 0, Path = 1, Query = 2, ClientAddress = 3, RequestId = 4, RequestBody = 5, ResponseBody = 6 }

export type Phase = 'request' | 'response'

type AnyHeaders = Record<string, ResponseHeaderValue | undefined>
/** What a read of a map not available in this phase gives; no header value is a symbol. */
const NO_MAP: unique symbol = Symbol('no map')

export class FilterCall {
  ex: Exchange | undefined
  phase: Phase = 'request'
  /** The body this phase may read and replace (the filter declared it needs it). */
  withBody = false
  /** Why the last refused write was refused. */
  problem = ''
  /** The local response this phase built with `respond`, if any. */
  response: LocalResponse | undefined
  /** The filter closed the stream in this phase (`closeStream`). */
  closed = false
  #local: Record<string, HeaderValue> | undefined

  begin (ex: Exchange, phase: Phase, withBody: boolean): void {
    this.ex = ex
    this.phase = phase
    this.withBody = withBody
    this.response = undefined
    this.closed = false
    this.#local = undefined
  }

  end (): void {
    this.ex = undefined
    this.response = undefined
    this.closed = false
    this.#local = undefined
  }

  /** A request-side map's headers in this phase, or undefined when it is not available. */
  #map (map: number, forWrite: boolean): AnyHeaders | undefined {
    const ex = this.ex as Exchange
    switch (map) {
      case HeaderMap.Request:
        return forWrite && this.phase === 'response' ? undefined : ex.headers
      case HeaderMap.Local:
        return (this.#local ??= {})
      case HeaderMap.ResponseAdd:
        if (this.phase === 'response') return undefined
        return (ex.responseHeaders ??= {})
      default:
        return undefined
    }
  }

  /** The reply, in the response phase: read and changed one header at a time (response-state.ts). */
  #reply (): ResponseState | undefined {
    return this.phase === 'response' ? this.ex?.response : undefined
  }

  /** One header of `map`, or NO_MAP when the map is not available (for a write, with `forWrite`). */
  #value (map: number, name: string, forWrite: boolean): ResponseHeaderValue | undefined | typeof NO_MAP {
    if (map === HeaderMap.Response) {
      const res = this.#reply()
      return res === undefined ? NO_MAP : replyHeader(res, name)
    }
    const headers = this.#map(map, forWrite)
    return headers === undefined ? NO_MAP : headers[name]
  }

  /** A header's value, several values joined with ", ". */
  header (map: number, name: string): string | typeof UNAVAILABLE | typeof NOT_FOUND {
    const v = this.#value(map, name, false)
    if (v === NO_MAP) return UNAVAILABLE
    if (v === undefined) return NOT_FOUND
    return typeof v === 'string' ? v : typeof v === 'number' ? String(v) : v.join(', ')
  }

  /** A header's values as Node.js keeps them apart (`set-cookie`), else one value. */
  headerValues (map: number, name: string): readonly string[] | typeof UNAVAILABLE | typeof NOT_FOUND {
    const v = this.#value(map, name, false)
    if (v === NO_MAP) return UNAVAILABLE
    if (v === undefined) return NOT_FOUND
    return typeof v === 'string' ? [v] : typeof v === 'number' ? [String(v)] : v
  }

  headerNames (map: number): string[] | typeof UNAVAILABLE {
    if (map === HeaderMap.Response) {
      const res = this.#reply()
      return res === undefined ? UNAVAILABLE : replyHeaderNames(res)
    }
    const headers = this.#map(map, false)
    if (headers === undefined) return UNAVAILABLE
    const names: string[] = []
    for (const name in headers) if (headers[name] !== undefined) names.push(name)
    return names
  }

  /**
   * Sets (or with `add`, adds) a header: `name` is a lower-case token (the glue checked it),
   * `value` is checked here unless the glue says it checked it while decoding (`checked`).
   * Returns 0 or an outcome.
   */
  setHeader (map: number, name: string, value: string, add: boolean, checked = false): number {
    if (map === HeaderMap.Response ? this.#reply() === undefined : this.#map(map, true) === undefined) return UNAVAILABLE
    const problem = checked ? undefined : fieldValueProblem(value)
    if (problem !== undefined) return this.#refuse(`the value of header "${name}" ${problem}`)
    if (map === HeaderMap.ResponseAdd && PRODUCER_HEADERS.has(name)) {
      return this.#refuse(`"${name}" cannot be set on the response from the request phase: it describes the reply's body or connection`)
    }
    let next: HeaderValue = value
    // A set does not read the old value: on the reply that would be a call into the framework.
    const old = add ? this.#value(map, name, true) : undefined
    if (old !== undefined && old !== NO_MAP) {
      const list = typeof old === 'string' ? [old] : typeof old === 'number' ? [String(old)] : old
      next = name === 'set-cookie' ? [...list, value] : `${list.join(', ')}, ${value}`
    }
    this.#changed(map, name, next)
    return 0
  }

  removeHeader (map: number, name: string): number {
    const old = this.#value(map, name, true)
    if (old === NO_MAP) return UNAVAILABLE
    if (old === undefined) return NOT_FOUND
    this.#changed(map, name, undefined)
    return 0
  }

  #changed (map: number, name: string, value: HeaderValue | undefined): void {
    const ex = this.ex as Exchange
    if (map === HeaderMap.Request) {
      if (value === undefined) ex.removeHeader(name)
      else ex.setHeader(name, value)
      return
    }
    if (map === HeaderMap.Response) return editReplyHeader(ex.response as ResponseState, name, value)
    const headers = this.#map(map, true) as AnyHeaders
    if (value === undefined) delete headers[name]
    else headers[name] = value
  }

  /** A field's value: text, bytes, or UNAVAILABLE. */
  field (field: number): string | Buffer | typeof UNAVAILABLE {
    const ex = this.ex as Exchange
    switch (field) {
      case Field.Method: return ex.method
      case Field.Path: return ex.path
      case Field.Query: return ex.query
      case Field.ClientAddress: return ex.remoteAddress
      case Field.RequestId: return ex.id
      case Field.RequestBody:
        return this.phase === 'request' && this.withBody ? ex.body ?? EMPTY : UNAVAILABLE
      case Field.ResponseBody:
        return this.phase === 'response' && this.withBody ? ex.response?.body ?? EMPTY : UNAVAILABLE
      default: return UNAVAILABLE
    }
  }

  setPath (path: string): number {
    if (this.phase !== 'request') return UNAVAILABLE
    const normal = normalizePath(path)
    if (isRefusal(normal)) return this.#refuse(`the path ${JSON.stringify(path)} is refused: ${normal.refused}`)
    ;(this.ex as Exchange).setTarget(normal, undefined)
    return 0
  }

  setQuery (query: string): number {
    if (this.phase !== 'request') return UNAVAILABLE
    const bad = queryRefusal(query)
    if (bad !== undefined) return this.#refuse(`the query ${JSON.stringify(query)} is refused: ${bad.refused}`)
    ;(this.ex as Exchange).setTarget(undefined, query)
    return 0
  }

  /** Replaces the body this phase declared it needs; `body` is the host's own copy. */
  setBody (field: number, body: Buffer): number {
    const ex = this.ex as Exchange
    if (field === Field.RequestBody && this.phase === 'request' && this.withBody) {
      ex.body = body
      ex.bodyChanged = true
      ex.removeHeader('transfer-encoding')
      ex.setHeader('content-length', String(body.length))
      return 0
    }
    const res = ex.response
    if (field === Field.ResponseBody && this.phase === 'response' && this.withBody && res !== undefined) {
      res.body = body
      res.bodyChanged = true
      editReplyHeader(res, 'content-length', undefined)
      return 0
    }
    return UNAVAILABLE
  }

  status (): number {
    const res = this.ex?.response
    return this.phase === 'response' && res !== undefined ? res.status : UNAVAILABLE
  }

  setStatus (status: number): number {
    const res = this.ex?.response
    if (this.phase !== 'response' || res === undefined) return UNAVAILABLE
    res.status = status
    res.changed = true
    return 0
  }

  /** Prepares the local response `RESPOND` sends: status 200..599 (checked by the glue), a UTF-8 body. */
  respond (status: number, body: string): void {
    const headers = this.#local ?? {}
    if (body !== '' && headers['content-type'] === undefined) headers['content-type'] = 'text/plain; charset=utf-8'
    this.response = { status, headers, body }
  }

  /**
   * The filter closes the request's stream: the phase ends with `CLOSE_STREAM`, whatever else it
   * did (a local response it prepared is dropped), and the client gets no response.
   */
  closeStream (): void {
    this.closed = true
  }

  /** Applies `RESPOND`: in the response phase the local response replaces the reply. */
  finishRespond (): LocalResponse | undefined {
    const response = this.response
    if (response !== undefined && this.phase === 'response') replaceResponse(this.ex as Exchange, response)
    return response
  }

  #refuse (problem: string): number {
    this.problem = problem
    return INVALID
  }
}

const EMPTY = Buffer.alloc(0)
