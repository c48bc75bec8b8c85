/**
 * Hop-by-hop fields (RFC 9110 section 7.6.1) describe one connection, not the message: a proxy
 * drops them in both directions, with every field the `Connection` header nominates.
 */
type HeaderMap = Record<string, string | string[] | number | undefined>

const HOP_BY_HOP = ['connection', 'keep-alive', 'proxy-connection', 'te', 'trailer', 'transfer-encoding', 'upgrade']

/**
 * Fields a client cannot nominate away before the gateway has read the request: they frame
 * the body (Fastify reads it after the filters' first phase) or route it. They are still
 * dropped or replaced when the request is forwarded.
 */
const FRAMING = new Set(['content-length', 'transfer-encoding', 'host'])

/** Lower-case names listed in `Connection` (comma-separated, possibly repeated). */
function nominated (connection: string | string[] | number | undefined): string[] {
  if (connection === undefined) return []
  const list = Array.isArray(connection) ? connection.join(',') : String(connection)
  return list.split(',').map((n) => n.trim().toLowerCase()).filter((n) => n !== '')
}

/**
 * Removes the client's hop-by-hop fields from the request before any filter runs, so a client
 * cannot nominate away a header a filter sets later (`Connection: x-auth-subject`). Framing
 * fields stay until the request is forwarded (see `forwardable`).
 */
export function dropClientHopByHop (headers: HeaderMap): void {
  if (headers.connection !== undefined) {
    for (const name of nominated(headers.connection)) {
      if (!FRAMING.has(name)) delete headers[name]
    }
  }
  for (const name of HOP_BY_HOP) {
    if (name !== 'transfer-encoding') delete headers[name]
  }
}

/** Removes hop-by-hop fields, and the ones `Connection` nominates, from a header copy. */
export function dropHopByHop<T extends HeaderMap> (headers: T): T {
  for (const name of nominated(headers.connection)) {
    if (name !== 'host') delete headers[name]
  }
  for (const name of HOP_BY_HOP) delete headers[name]
  return headers
}
