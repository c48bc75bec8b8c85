import type { Exchange, HeaderValue, ResponseHeaders } from './exchange.js'

/** A response produced by a filter (or by a failure policy) instead of the route's. */
export interface LocalResponse {
  status: number
  headers: Record<string, HeaderValue>
  body: string | undefined
}

/**
 * A filter closed the stream (Proxy-Wasm `proxy_close_stream`): as `respond`, no later filter
 * or route runs, but the client gets no response at all; the adapter resets the connection.
 */
export interface CloseStream { respond: true, response: undefined }

/**
 * What a filter decided for this phase. `CONTINUE` and `CLOSE_STREAM` are shared: they carry no
 * data. A `respond` without a `response` is a closed stream.
 */
export type Decision = { respond: false } | { respond: true, response: LocalResponse } | CloseStream
export const CONTINUE: Decision = Object.freeze({ respond: false })
export const CLOSE_STREAM: CloseStream = Object.freeze({ respond: true, response: undefined })

/**
 * Headers that describe a body or the connection: only whoever produces the reply can set them
 * correctly (Fastify refuses to serialise an object under a foreign content-type).
 */
export const PRODUCER_HEADERS: ReadonlySet<string> = new Set(['content-type', 'content-length', 'content-encoding', 'transfer-encoding', 'connection'])

/** Replaces the reply with a filter's response during the response phase. */
export function replaceResponse (ex: Exchange, response: LocalResponse): void {
  const res = ex.response
  if (res === undefined) throw new Error('replaceResponse() called outside the response phase')
  res.status = response.status
  const headers: ResponseHeaders = { ...response.headers }
  res.headers = headers
  res.body = Buffer.from(response.body ?? '', 'utf8')
  res.bodyChanged = true
  res.changed = true
}
