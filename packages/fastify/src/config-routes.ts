import replyFrom from '@fastify/reply-from'
import { errorBody, JSON_ERROR_TYPE, WaferError, type Wafer } from '@wafer/core'
import type { FastifyInstance, FastifyReply, FastifyRequest, HTTPMethods, RouteHandlerMethod } from 'fastify'
import { routeChainName, type ConfigData } from './config-reload.js'
import { generationOf } from './hooks.js'
import { dropClientHopByHop, withoutHopByHop } from './hop-by-hop.js'

/** A route from a gateway config, as `loadConfig()` resolves it (docs/config.md). */
export interface ConfigRoute {
  index: number
  match: { path: string, type: 'prefix' | 'exact' | 'pattern', methods?: readonly string[] | undefined, host?: string | undefined }
  /** Filter names, in order; empty for no filters. */
  chain: readonly string[]
  upstream?: { url: string, timeoutMs: number } | undefined
  respond?: { status: number, headers?: Record<string, string> | undefined, body?: string | undefined } | undefined
}

/** Observes proxied exchanges, for metrics. */
export interface UpstreamObserver {
  onUpstreamResponse? (route: ConfigRoute, status: number): void
  onUpstreamError? (route: ConfigRoute, code: string): void
}

export interface ConfigRoutesOptions {
  routes: readonly ConfigRoute[]
  observer?: UpstreamObserver | undefined
  /** The runtime: each request takes its route's settings from the generation it entered. */
  wafer: Wafer
}

const ALL_METHODS: HTTPMethods[] = ['DELETE', 'GET', 'HEAD', 'PATCH', 'POST', 'PUT', 'OPTIONS']
const TIMEOUTS = new Set(['FST_REPLY_FROM_GATEWAY_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_CONNECT_TIMEOUT', 'FST_REPLY_FROM_CONNECT_TIMEOUT'])

/**
 * Registers a config's routes in their own encapsulated scope: bodies are passed through as
 * bytes (no JSON re-serialisation on the way to the upstream), hop-by-hop headers are dropped in
 * both directions, and proxying uses @fastify/reply-from (undici). docs/config.md, "What the
 * gateway forwards", states what reaches the upstream.
 */
export async function configRoutes (scope: FastifyInstance, options: ConfigRoutesOptions): Promise<void> {
  const { routes, observer, wafer } = options
  // The gateway forwards bodies as received (after filters), whatever their type.
  scope.removeAllContentTypeParsers()
  scope.addContentTypeParser('*', { parseAs: 'buffer' }, (_request, body, done) => { done(null, body) })
  // Scope hooks run before the route-level ones that run the chain: filters never see the
  // client's hop-by-hop headers, and what they set cannot be nominated away by the client.
  scope.addHook('onRequest', (request, _reply, done) => {
    dropClientHopByHop(request.headers)
    done()
  })
  if (routes.some((r) => r.upstream !== undefined)) {
    await scope.register(replyFrom, { undici: { connections: 128, keepAliveTimeout: 10_000 }, disableRequestLogging: true })
  }
  for (const route of routes) {
    // The settings of this route in the generation the request runs on (a reload may change them).
    const current = (request: FastifyRequest): ConfigRoute =>
      ((generationOf(request) ?? wafer.generation).data as ConfigData).routes[route.index] as ConfigRoute
    const handler = dispatch(current, observer)
    for (const url of urlsFor(route.match)) {
      scope.route({
        // A copy: Fastify normalises the method list in place, and the resolved config is frozen.
        method: [...(route.match.methods ?? ALL_METHODS)] as HTTPMethods[],
        url,
        ...(route.match.host === undefined ? {} : { constraints: { host: route.match.host } }),
        // Always a chain (possibly empty), so every request is bound to one generation.
        config: { wafer: { chain: routeChainName(route.index) } },
        handler
      })
    }
  }
}

/**
 * Fastify route paths for a match. A prefix matches whole path segments: `/api` matches `/api`
 * and `/api/x`, not `/apix`.
 */
export function urlsFor (match: ConfigRoute['match']): string[] {
  if (match.type !== 'prefix') return [match.path]
  if (match.path === '/') return ['/', '/*']
  const base = match.path.endsWith('/') ? match.path.slice(0, -1) : match.path
  return [base, `${base}/*`]
}

function dispatch (current: (request: FastifyRequest) => ConfigRoute, observer: UpstreamObserver | undefined): RouteHandlerMethod {
  return function waferConfigRoute (request: FastifyRequest, reply: FastifyReply) {
    const route = current(request)
    if (route.upstream !== undefined) return proxy(route, request, reply, observer)
    const respond = route.respond ?? { status: 404 }
    reply.code(respond.status)
    if (respond.headers !== undefined) reply.headers(respond.headers)
    return reply.send(respond.body ?? '')
  }
}

function proxy (route: ConfigRoute, request: FastifyRequest, reply: FastifyReply, observer: UpstreamObserver | undefined): FastifyReply {
  const upstream = route.upstream as NonNullable<ConfigRoute['upstream']>
  const base = upstream.url.endsWith('/') ? upstream.url.slice(0, -1) : upstream.url
  const label = `${base} (route ${route.index}, ${route.match.path})`
  // The exact bytes the client sent (or a filter left), never re-encoded: reply-from would
  // JSON-encode a Buffer and cut the content-type's parameters. An empty Buffer is a body too.
  const body = request.body as Buffer | undefined
  const contentType = request.headers['content-type']
  try {
    reply.from(base + request.url, {
      timeout: upstream.timeoutMs,
      ...(body === undefined ? {} : { body, contentType: contentType ?? 'application/octet-stream' }),
      rewriteRequestHeaders: (req, headers) => forwardedHeaders(req as FastifyRequest, headers, contentType),
      rewriteHeaders: (headers) => withoutHopByHop(headers),
      onResponse: (_req, rep, res) => {
        observer?.onUpstreamResponse?.(route, res.statusCode)
        rep.send(res.stream)
      },
      onError: (rep, { error }) => {
        const code = (error as { code?: string }).code ?? 'ERROR'
        observer?.onUpstreamError?.(route, code)
        const err = TIMEOUTS.has(code)
          ? new WaferError('WAFER_ERR_UPSTREAM_TIMEOUT', [label, upstream.timeoutMs], { cause: error })
          : new WaferError('WAFER_ERR_UPSTREAM_UNAVAILABLE', [label, describeCause(error)], { cause: error })
        rep.log.error({ err, route: route.index }, err.message)
        sendError(rep as FastifyReply, err.statusCode, err.code, err.code === 'WAFER_ERR_UPSTREAM_TIMEOUT' ? 'The upstream service did not answer in time' : 'The upstream service could not be reached')
      }
    })
  } catch (err) {
    // reply-from refuses paths it cannot forward safely (malformed escapes, `..` segments).
    request.log.warn({ err }, 'request path cannot be forwarded')
    sendError(reply, 400, 'WAFER_ERR_BAD_PATH', 'The request path cannot be forwarded')
  }
  return reply
}

/** The JSON error shape Fastify uses, without internal addresses (those are in the log line). */
function sendError (reply: FastifyReply, status: number, code: string, message: string): void {
  reply.code(status).header('content-type', JSON_ERROR_TYPE).send(errorBody(status, code, message))
}

/**
 * The request headers the upstream gets: the filtered request's, without hop-by-hop fields or
 * `Expect` (the gateway answered it), with the client's content-type as sent, and x-forwarded-*.
 */
/** Answered or replaced by the gateway: `Expect` (Node answered it) and the content-type (set from the client's). */
const NOT_FORWARDED: ReadonlySet<string> = new Set(['expect', 'content-type'])

function forwardedHeaders (request: FastifyRequest, headers: Record<string, string | string[] | undefined>,
  contentType: string | undefined): Record<string, string | string[] | undefined> {
  const out = withoutHopByHop(headers, NOT_FORWARDED)
  if (contentType !== undefined) out['content-type'] = contentType
  const prior = headers['x-forwarded-for']
  out['x-forwarded-for'] = prior === undefined ? request.ip : `${String(prior)}, ${request.ip}`
  out['x-forwarded-proto'] = request.protocol
  out['x-forwarded-host'] = request.headers.host
  return out
}

function describeCause (error: unknown): string {
  const cause = (error as { cause?: { code?: string, message?: string } }).cause
  return cause?.code ?? cause?.message ?? (error as Error).message
}
