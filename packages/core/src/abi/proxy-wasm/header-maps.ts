import { FilterCall, HeaderMap, INVALID, NOT_FOUND, UNAVAILABLE } from '../../http/request-context.js'
import { MapType } from './spec.js'
import type { Pair } from './pairs.js'

/**
 * Proxy-Wasm header maps over the request context: map ids, the pseudo-headers filters expect
 * (`:method`, `:path`, `:authority`, `:scheme` on the request, `:status` on the response), and
 * the whole-map operations. Every read and write goes through `FilterCall`, which owns
 * validation; results are the request context's outcomes (0, UNAVAILABLE, NOT_FOUND, INVALID
 * with `call.problem`), and the glue turns them into statuses.
 */

/** The request context's map for a Proxy-Wasm map id: undefined for maps Wafer has none of (trailers, gRPC, callouts). */
export function contextMap (map: number): HeaderMap | undefined {
  if (map === MapType.RequestHeaders) return HeaderMap.Request
  if (map === MapType.ResponseHeaders) return HeaderMap.Response
  return undefined
}

const REQUEST_PSEUDO = [':authority', ':path', ':method', ':scheme'] as const

function refuse (call: FilterCall, problem: string): number {
  call.problem = problem
  return INVALID
}

/** One header's value (several joined with ", "), a pseudo-header, or an outcome. */
export function readHeader (call: FilterCall, map: HeaderMap, name: string): string | number {
  const ex = call.ex
  if (ex === undefined) return UNAVAILABLE
  if (name.charCodeAt(0) !== 58) return call.header(map, name)
  if (map === HeaderMap.Response) {
    const status = call.status()
    return name === ':status' && status !== UNAVAILABLE ? String(status) : status === UNAVAILABLE ? UNAVAILABLE : NOT_FOUND
  }
  switch (name) {
    case ':method': return ex.method
    case ':path': return ex.url
    case ':authority': return call.header(map, 'host')
    // The adapters hand the request context no scheme: Wafer serves plain HTTP.
    case ':scheme': return 'http'
    default: return NOT_FOUND
  }
}

/** Every pair of a map, pseudo-headers first, each value of a repeated header as its own pair. */
export function readPairs (call: FilterCall, map: HeaderMap): Pair[] | number {
  const names = call.headerNames(map)
  if (typeof names === 'number') return names
  const pairs: Pair[] = []
  const pseudo = map === HeaderMap.Request ? REQUEST_PSEUDO : [':status']
  for (const p of pseudo) {
    const v = readHeader(call, map, p)
    if (typeof v === 'string') pairs.push([p, v])
  }
  for (const name of names) {
    const values = call.headerValues(map, name)
    if (typeof values !== 'number') for (const v of values) pairs.push([name, v])
  }
  return pairs
}

/**
 * Sets (`add`: adds) one header, or a pseudo-header: `:path` sets the path and query under the
 * request-target rule, `:authority` the Host header, `:status` the reply's status. `:method`
 * and `:scheme` cannot be changed in Wafer (setting the value they have is allowed).
 */
export function writeHeader (call: FilterCall, map: HeaderMap, name: string, value: string, add: boolean): number {
  if (call.ex === undefined) return UNAVAILABLE
  if (name.charCodeAt(0) !== 58) return call.setHeader(map, name, value, add)
  if (map === HeaderMap.Response) {
    if (name !== ':status') return refuse(call, `the response has no pseudo-header "${name}" to set`)
    const status = /^[0-9]{3}$/.test(value) ? Number(value) : NaN
    if (!(status >= 200 && status <= 599)) return refuse(call, `":status" must be a status 200..599, got ${JSON.stringify(value)}`)
    return call.setStatus(status)
  }
  switch (name) {
    case ':path': {
      const q = value.indexOf('?')
      const result = call.setPath(q === -1 ? value : value.slice(0, q))
      return result !== 0 ? result : call.setQuery(q === -1 ? '' : value.slice(q + 1))
    }
    case ':authority': return call.setHeader(map, 'host', value, false)
    // Writing back the value it has is no change (a filter that sets every pair it read does).
    case ':method':
    case ':scheme': return value === readHeader(call, map, name) ? 0 : refuse(call, `"${name}" cannot be changed by a filter in Wafer`)
    default: return refuse(call, `the request has no pseudo-header "${name}" to set`)
  }
}

export function removeHeader (call: FilterCall, map: HeaderMap, name: string): number {
  if (call.ex === undefined) return UNAVAILABLE
  if (name.charCodeAt(0) === 58) return refuse(call, `the pseudo-header "${name}" cannot be removed`)
  const result = call.removeHeader(map, name)
  return result === NOT_FOUND ? 0 : result
}

/**
 * Replaces a whole map: headers absent from `pairs` are removed, the first value of each name
 * set and the next ones added, pseudo-headers set as by `writeHeader`. Stops at the first
 * refused write (earlier writes stay applied, as for the native ABI).
 */
export function writePairs (call: FilterCall, map: HeaderMap, pairs: readonly Pair[]): number {
  const names = call.headerNames(map)
  if (typeof names === 'number') return names
  const keep = new Set(pairs.map(([n]) => n))
  for (const name of names) {
    if (keep.has(name)) continue
    const r = call.removeHeader(map, name)
    if (r !== 0 && r !== NOT_FOUND) return r
  }
  const seen = new Set<string>()
  for (const [name, value] of pairs) {
    const r = writeHeader(call, map, name, value, seen.has(name) && name.charCodeAt(0) !== 58)
    if (r !== 0) return r
    seen.add(name)
  }
  return 0
}
