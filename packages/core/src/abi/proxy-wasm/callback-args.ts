import type { Exchange } from '../../http/exchange.js'

/* What the host passes the guest's callbacks besides context ids. */

/**
 * The plugin configuration a filter's `config` becomes: a string verbatim, anything else as
 * JSON; an empty object (what a filter without `config` has) is an empty configuration, as in
 * Envoy when none is given.
 */
export function pluginConfiguration (config: Buffer): Buffer {
  const text = config.toString('utf8')
  if (text === '{}') return Buffer.alloc(0)
  if (text.startsWith('"')) return Buffer.from(JSON.parse(text) as string, 'utf8')
  return config
}

/** The VM configuration `vmConfig` gives: a string verbatim, any other value as JSON, none empty. */
export function vmConfiguration (value: unknown): Buffer {
  if (value === undefined) return Buffer.alloc(0)
  return Buffer.from(typeof value === 'string' ? value : JSON.stringify(value), 'utf8')
}

/** Whether the request has no body, which `proxy_on_request_headers` says with end_of_stream. */
export function requestEnds (ex: Exchange): boolean {
  const length = ex.headers['content-length']
  return ex.headers['transfer-encoding'] === undefined && (length === undefined || length === '0')
}
