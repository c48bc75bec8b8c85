/**
 * Hop-by-hop fields (RFC 9110 section 7.6.1) describe one connection, not the message: a proxy
 * drops them in both directions, with every field the `Connection` header nominates.
 */
type HeaderMap = Record<string, string | string[] | number | undefined>

const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'te', 'trailer', 'transfer-encoding', 'upgrade'])

/**
 * Fields a client cannot nominate away before the gateway has read the request: they frame
 * the body (Fastify reads it after the filters' first phase) or route it. They are still
 * dropped or replaced when the request is forwarded.
 */
const FRAMING = new Set(['content-length', 'transfer-encoding', 'host'])

/** Lower-case names listed in `Connection` (comma-separated, possibly repeated). */
function nominated (connection: string | string[] | number): string[] {
  const list = Array.isArray(connection) ? connection.join(',') : String(connection)
  return list.split(',').map((n) => n.trim().toLowerCase()).filter((n) => n !== '')
}

// Hop-by-hop fields are cleared without `delete`: deleting a property that exists (a keep-alive
// client always sends `connection`) turns the object into a slow dictionary for the rest of the
// request, which the proxy measured at tens of microseconds. An undefined value is an absent
// header to Node.js, undici, Fastify and Wafer alike.

/**
 * Clears the client's hop-by-hop fields from the request before any filter runs, so a client
 * cannot nominate away a header a filter sets later (`Connection: x-auth-subject`). Framing
 * fields stay until the request is forwarded (see `forwardable`).
 */
export function dropClientHopByHop (headers: HeaderMap): void {
  const connection = headers.connection
  if (connection !== undefined) {
    for (const name of nominated(connection)) {
      if (!FRAMING.has(name) && headers[name] !== undefined) headers[name] = undefined
    }
  }
  for (const name of HOP_BY_HOP) {
    if (name !== 'transfer-encoding' && headers[name] !== undefined) headers[name] = undefined
  }
}

/**
 * A copy of `headers` without hop-by-hop fields, the ones `Connection` nominates, absent
 * (undefined) values, and any name in `also`; built in one pass, without `delete`.
 */
export function withoutHopByHop<T extends HeaderMap> (headers: T, also?: ReadonlySet<string>): T {
  const connection = headers.connection
  const named = connection === undefined ? undefined : nominated(connection)
  const out: HeaderMap = {}
  for (const name in headers) {
    const value = headers[name]
    if (value === undefined || HOP_BY_HOP.has(name) || also?.has(name) === true) continue
    if (named !== undefined && name !== 'host' && named.includes(name)) continue
    out[name] = value
  }
  return out as T
}
