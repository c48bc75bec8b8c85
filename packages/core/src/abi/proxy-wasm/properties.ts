import type { FilterCall } from '../../http/request-context.js'
import { HeaderMap } from '../../http/request-context.js'
import { readHeader, readPairs } from './header-maps.js'
import { serializePairs } from './pairs.js'

/**
 * The properties `proxy_get_property` answers (Envoy's attribute names; docs/proxy-wasm.md has
 * the table). A path arrives as its segments separated by NUL bytes (`request\0path`, as the
 * Rust, Go and C++ SDKs send it) or by dots (`request.path`); both name the same property.
 * Strings are UTF-8 bytes; integers are 8-byte little-endian, as in Envoy.
 */
export interface PropertyScope {
  call: FilterCall
  filter: string
  rootId: string | undefined
  vmId: string | undefined
}

type Getter = (s: PropertyScope) => string | Buffer | bigint | undefined

const port = (p: number | undefined): bigint | undefined => p === undefined ? undefined : BigInt(p)

const requestHeader = (name: string): Getter => (s) => {
  const v = s.call.ex === undefined ? undefined : readHeader(s.call, HeaderMap.Request, name)
  return typeof v === 'string' ? v : undefined
}

export const PROPERTIES: Readonly<Record<string, { getter: Getter, description: string }>> = {
  'request.path': { getter: (s) => s.call.ex?.url, description: 'path and query, as the route will see it' },
  'request.url_path': { getter: (s) => s.call.ex?.path, description: 'path without the query' },
  'request.query': { getter: (s) => s.call.ex?.query, description: 'query without `?`' },
  'request.method': { getter: (s) => s.call.ex?.method, description: 'method' },
  'request.host': { getter: requestHeader(':authority'), description: 'the Host header' },
  'request.scheme': { getter: requestHeader(':scheme'), description: 'always `http`' },
  'request.id': { getter: (s) => s.call.ex?.id, description: "the adapter's request id (Fastify's `request.id`)" },
  'request.headers': {
    getter: (s) => {
      const pairs = s.call.ex === undefined ? undefined : readPairs(s.call, HeaderMap.Request)
      return pairs === undefined || typeof pairs === 'number' ? undefined : serializePairs(pairs.filter(([n]) => n.charCodeAt(0) !== 58))
    },
    description: 'every request header, as a serialised header map'
  },
  'response.code': {
    getter: (s) => {
      const status = s.call.phase === 'response' && s.call.ex !== undefined ? s.call.status() : -1
      return status >= 0 ? BigInt(status) : undefined
    },
    description: 'the reply status, in the response phase (integer)'
  },
  'source.address': { getter: (s) => s.call.ex?.remoteAddress, description: "the client's IP address (without its port)" },
  'source.port': { getter: (s) => port(s.call.ex?.connection?.remotePort), description: "the client's port (integer)" },
  'destination.address': { getter: (s) => s.call.ex?.connection?.localAddress, description: 'the local IP address the request came to (without its port)' },
  'destination.port': { getter: (s) => port(s.call.ex?.connection?.localPort), description: 'the local port the request came to (integer)' },
  plugin_name: { getter: (s) => s.filter, description: "the filter's name in the config" },
  plugin_root_id: { getter: (s) => s.rootId ?? '', description: "the filter's `proxyWasm.rootId`, empty by default" },
  plugin_vm_id: { getter: (s) => s.vmId ?? '', description: "the filter's `proxyWasm.vmId`, empty by default" }
}

/** The property at `path` (raw bytes from the guest), or undefined when there is none here. */
export function readProperty (path: Buffer, scope: PropertyScope): Buffer | undefined {
  let end = path.length
  while (end > 0 && path[end - 1] === 0) end--
  const name = path.toString('utf8', 0, end).replaceAll('\0', '.')
  const value = PROPERTIES[name]?.getter(scope)
  if (value === undefined) return undefined
  if (typeof value === 'bigint') {
    const out = Buffer.allocUnsafe(8)
    out.writeBigInt64LE(value)
    return out
  }
  return typeof value === 'string' ? Buffer.from(value, 'utf8') : value
}
