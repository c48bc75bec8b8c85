import type { Exchange, HeaderValue, ResponseHeaders } from './exchange.js'
import { fieldValueProblem, isToken, isWellFormedText } from './field-syntax.js'
import { isRefusal, normalizePath, queryRefusal } from './request-target.js'

/** A response produced by a filter (or by a failure policy) instead of the route's. */
export interface LocalResponse {
  status: number
  headers: Record<string, HeaderValue>
  body: string | undefined
}

/** What a filter decided for this phase. `CONTINUE` is shared: it carries no data. */
export type Decision = { respond: false } | { respond: true, response: LocalResponse }
export const CONTINUE: Decision = Object.freeze({ respond: false })

/** Thrown for output that breaks the ABI's shape rules; the glue wraps it in a coded error. */
export class OutputError extends Error {}


function isObject (v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}

function headerName (name: string, where: string): string {
  if (!isToken(name)) throw new OutputError(`${where}: header name ${JSON.stringify(name)} is not an HTTP token`)
  return name.toLowerCase()
}

function headerValue (value: unknown, name: string, where: string): HeaderValue {
  if (typeof value === 'string') {
    const problem = fieldValueProblem(value)
    if (problem !== undefined) throw new OutputError(`${where}: the value of header "${name}" ${problem}`)
    return value
  }
  if (Array.isArray(value) && value.length > 0) {
    return value.map((v) => {
      if (typeof v !== 'string') throw new OutputError(`${where}: header "${name}" must be a string or an array of strings`)
      return headerValue(v, name, where) as string
    })
  }
  throw new OutputError(`${where}: header "${name}" must be a string or a non-empty array of strings, got ${JSON.stringify(value)}`)
}

function headerMap (value: unknown, where: string): Record<string, HeaderValue> {
  if (!isObject(value)) throw new OutputError(`${where} must be an object of header name -> value`)
  const out: Record<string, HeaderValue> = {}
  for (const [name, v] of Object.entries(value)) {
    const lower = headerName(name, where)
    out[lower] = headerValue(v, lower, where)
  }
  return out
}

function nameList (value: unknown, where: string): string[] {
  if (!Array.isArray(value)) throw new OutputError(`${where} must be an array of header names`)
  return value.map((n) => {
    if (typeof n !== 'string') throw new OutputError(`${where} must contain strings, got ${JSON.stringify(n)}`)
    return headerName(n, where)
  })
}

function status (value: unknown, min: number, where: string): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > 599) {
    throw new OutputError(`${where} must be an integer from ${min} to 599, got ${JSON.stringify(value)}`)
  }
  return value
}

function optionalString (value: unknown, where: string): string | undefined {
  if (value === undefined) return undefined
  if (typeof value !== 'string') throw new OutputError(`${where} must be a string, got ${JSON.stringify(value)}`)
  return value
}

/** A body string: sent as UTF-8, so it must be representable in it. */
function optionalBody (value: unknown): string | undefined {
  const body = optionalString(value, '"body"')
  if (body !== undefined && !isWellFormedText(body)) throw new OutputError('"body" contains a lone UTF-16 surrogate (a \\uD800-\\uDFFF escape without its pair), which UTF-8 cannot encode')
  return body
}

function checkKeys (obj: Record<string, unknown>, allowed: readonly string[], what: string): void {
  for (const key of Object.keys(obj)) {
    if (!allowed.includes(key)) throw new OutputError(`${what} has unknown field "${key}"; allowed: ${allowed.join(', ')}`)
  }
}

/**
 * Headers that describe a body or the connection: only whoever produces the reply can set them
 * correctly (Fastify refuses to serialise an object under a foreign content-type).
 */
export const PRODUCER_HEADERS: ReadonlySet<string> = new Set(['content-type', 'content-length', 'content-encoding', 'transfer-encoding', 'connection'])

function responseHeaderMap (value: unknown): Record<string, HeaderValue> {
  const map = headerMap(value, '"setResponseHeaders"')
  for (const name in map) {
    if (PRODUCER_HEADERS.has(name)) {
      throw new OutputError(`"setResponseHeaders" cannot set "${name}": it describes the reply's body or connection; set it from a response phase`)
    }
  }
  return map
}

const REQUEST_PATCH_KEYS = ['setHeaders', 'removeHeaders', 'path', 'query', 'body', 'setResponseHeaders'] as const
const RESPONSE_PATCH_KEYS = ['status', 'setHeaders', 'removeHeaders', 'body'] as const
const RESPONSE_KEYS = ['status', 'headers', 'body'] as const

/** A filter's new path in normal form; refused as the client's would be. */
function targetPath (path: string | undefined): string | undefined {
  if (path === undefined) return undefined
  const normal = normalizePath(path)
  if (isRefusal(normal)) throw new OutputError(`"path" is refused: ${normal.refused}, got ${JSON.stringify(path)}`)
  return normal
}

/** Validates a `RESPOND` output (docs/abi.md section 5). */
export function parseLocalResponse (value: unknown): LocalResponse {
  if (!isObject(value)) throw new OutputError('a respond output must be a JSON object')
  checkKeys(value, RESPONSE_KEYS, 'the respond output')
  const headers = value.headers === undefined ? {} : headerMap(value.headers, '"headers"')
  const body = optionalBody(value.body)
  if (body !== undefined && headers['content-type'] === undefined) headers['content-type'] = 'text/plain; charset=utf-8'
  return { status: status(value.status, 200, '"status"'), headers, body }
}

/**
 * Validates a request patch completely, then applies it. Nothing is applied if any field is
 * invalid, so a bad patch never leaves the request half-changed.
 */
export function applyRequestPatch (ex: Exchange, value: unknown, bodyAllowed: boolean): void {
  if (!isObject(value)) throw new OutputError('a continue output must be a JSON object (a request patch)')
  checkKeys(value, REQUEST_PATCH_KEYS, 'the request patch')
  const remove = value.removeHeaders === undefined ? undefined : nameList(value.removeHeaders, '"removeHeaders"')
  const set = value.setHeaders === undefined ? undefined : headerMap(value.setHeaders, '"setHeaders"')
  // The request-target rule the host applied to the client's target (request-target.ts).
  const path = targetPath(optionalString(value.path, '"path"'))
  const query = optionalString(value.query, '"query"')
  const badQuery = query === undefined ? undefined : queryRefusal(query)
  if (badQuery !== undefined) throw new OutputError(`"query" is refused: ${badQuery.refused}, got ${JSON.stringify(query)}`)
  const body = optionalBody(value.body)
  if (body !== undefined && !bodyAllowed) {
    throw new OutputError('"body" can only be set by a filter that declared NEEDS_REQUEST_BODY')
  }
  const forResponse = value.setResponseHeaders === undefined ? undefined : responseHeaderMap(value.setResponseHeaders)

  if (forResponse !== undefined) {
    if (ex.responseHeaders === undefined) ex.responseHeaders = forResponse
    else Object.assign(ex.responseHeaders, forResponse)
  }
  // Each change re-encodes only its part of the request (Exchange); a patch that only adds
  // response headers leaves the request and its encoding alone.
  if (remove !== undefined) ex.removeHeaders(remove)
  if (set !== undefined) ex.setHeaders(set)
  if (path !== undefined || query !== undefined) ex.setTarget(path, query)
  if (body !== undefined) {
    ex.body = Buffer.from(body, 'utf8')
    ex.bodyChanged = true
    ex.removeHeaders(['transfer-encoding'])
    ex.setHeaders({ 'content-length': String(ex.body.length) })
  }
}

/** Validates and applies a response patch to `ex.response`. */
export function applyResponsePatch (ex: Exchange, value: unknown, bodyAllowed: boolean): void {
  const res = ex.response
  if (res === undefined) throw new Error('applyResponsePatch() called outside the response phase')
  if (!isObject(value)) throw new OutputError('a continue output must be a JSON object (a response patch)')
  checkKeys(value, RESPONSE_PATCH_KEYS, 'the response patch')
  const newStatus = value.status === undefined ? undefined : status(value.status, 200, '"status"')
  const remove = value.removeHeaders === undefined ? undefined : nameList(value.removeHeaders, '"removeHeaders"')
  const set = value.setHeaders === undefined ? undefined : headerMap(value.setHeaders, '"setHeaders"')
  const body = optionalBody(value.body)
  if (body !== undefined && !bodyAllowed) {
    throw new OutputError('"body" can only be set by a filter that declared NEEDS_RESPONSE_BODY')
  }

  if (newStatus !== undefined) res.status = newStatus
  if (remove !== undefined) for (const name of remove) delete res.headers[name]
  if (set !== undefined) Object.assign(res.headers, set)
  if (body !== undefined) {
    res.body = Buffer.from(body, 'utf8')
    res.bodyChanged = true
    delete res.headers['content-length']
  }
  res.changed = true
}

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
