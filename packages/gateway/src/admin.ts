import { createHash, timingSafeEqual } from 'node:crypto'
import { isIPv4, isIPv6 } from 'node:net'
import { errorBody, JSON_ERROR_TYPE, WaferError, type ReloadReport, type ResolvedConfig } from '@wafer/core'
import Fastify, { type FastifyInstance, type FastifyReply } from 'fastify'
import type { GatewayMetrics } from './metrics.js'

/**
 * The admin side, on its own listener (by default 127.0.0.1:9901) so status, metrics and
 * reloads are never exposed on the public port: `GET /_wafer/status`, `GET /metrics`,
 * `POST /_wafer/reload`.
 */
export async function adminServer (app: FastifyInstance, config: ResolvedConfig, metrics: GatewayMetrics,
  reload: () => Promise<ReloadReport>): Promise<FastifyInstance> {
  const admin = Fastify({ loggerInstance: app.log.child({ server: 'admin' }) })
  guardAdmin(admin, config.admin)
  const started = Date.now()
  admin.get('/_wafer/status', async () => {
    const status = app.wafer.status()
    const routes = ((app.wafer.generation.data as { routes?: ResolvedConfig['routes'] } | undefined)?.routes) ?? config.routes
    return {
      status: 'ok',
      uptimeSeconds: Math.round((Date.now() - started) / 1000),
      config: config.source,
      generation: status.generation,
      lastReload: status.lastReload ?? null,
      draining: status.draining,
      filters: status.filters,
      // Filters in no route's chain: loaded and kept running (a Proxy-Wasm root context), never run per request.
      services: status.services,
      chains: status.chains,
      routes: routes.map((r) => ({
        index: r.index,
        match: r.match,
        chain: r.chain,
        ...(r.upstream !== undefined ? { upstream: r.upstream.url } : { respond: r.respond?.status })
      }))
    }
  })
  admin.post('/_wafer/reload', async (_request, reply) => {
    const report = await reload()
    // 422: the new config or a module in it was refused; the running version keeps serving.
    reply.code(report.outcome === 'failed' ? 422 : 200)
    return report
  })
  admin.get('/metrics', async (_request, reply) => {
    reply.type(metrics.registry.contentType)
    return metrics.registry.metrics()
  })
  await admin.ready()
  return admin
}

/** Shortest token accepted: a guessable token is no better than none. */
const TOKEN_MIN = 16

/**
 * Who may change the gateway through an admin listener. Reads (GET, HEAD: status, metrics)
 * are open to whoever reaches the listener. Anything else (POST /_wafer/reload) needs
 * `Authorization: Bearer <admin.token>` when a token is set; without one it is allowed on a
 * loopback listener only, and refused on any other address (with a warning at startup), since
 * an admin listener bound to 0.0.0.0 for Prometheus would let the whole network reload.
 * Throws WAFER_ERR_ADMIN_TOKEN when the token cannot be used.
 */
export function guardAdmin (admin: FastifyInstance, settings: ResolvedConfig['admin'], env: NodeJS.ProcessEnv = process.env): void {
  const token = adminToken(settings.token, env)
  const loopback = isLoopback(settings.host)
  if (token === undefined && !loopback) {
    admin.log.warn({ host: settings.host, code: 'WAFER_ERR_ADMIN_FORBIDDEN' },
      `admin listener on ${settings.host} is not a loopback address and admin.token is not set: POST /_wafer/reload is refused (403); ` +
      `status and metrics stay readable by anyone who can reach it. Set admin.token ({ env: NAME }) to allow reloads over the network, or bind admin.host to 127.0.0.1`)
  }
  const expected = token === undefined ? undefined : digest(token)
  admin.addHook('onRequest', async (request, reply) => {
    if (request.method === 'GET' || request.method === 'HEAD') return
    const path = request.url.split('?', 1)[0] as string
    if (expected === undefined) {
      if (loopback) return
      return refuse(reply, new WaferError('WAFER_ERR_ADMIN_FORBIDDEN', [request.method, path, settings.host]))
    }
    const given = bearer(request.headers.authorization)
    // Digests have equal lengths, so the comparison takes the same time whatever was sent.
    if (given !== undefined && timingSafeEqual(digest(given), expected)) return
    reply.header('www-authenticate', given === undefined ? 'Bearer realm="wafer-admin"' : 'Bearer realm="wafer-admin", error="invalid_token"')
    const why = given === undefined ? 'send "Authorization: Bearer <token>"' : 'the bearer token sent is not admin.token'
    return refuse(reply, new WaferError('WAFER_ERR_ADMIN_UNAUTHORIZED', [request.method, path, why]))
  })
}

/** The token `admin.token` gives, read from the environment for `{ env }`; `undefined`: none. */
export function adminToken (setting: ResolvedConfig['admin']['token'], env: NodeJS.ProcessEnv): string | undefined {
  if (setting === undefined) return undefined
  let token: string
  let where: string
  if (typeof setting === 'string') {
    token = setting
    where = 'admin.token'
  } else {
    // Secrets mounted from files often end with a newline.
    token = (env[setting.env] ?? '').trim()
    where = `environment variable ${setting.env} (admin.token.env)`
    if (token === '') throw new WaferError('WAFER_ERR_ADMIN_TOKEN', [`${where} is not set or empty`])
  }
  if (token.length < TOKEN_MIN) {
    throw new WaferError('WAFER_ERR_ADMIN_TOKEN', [`the token in ${where} has ${token.length} characters; use at least ${TOKEN_MIN} (openssl rand -hex 32 makes one)`])
  }
  return token
}

/** Whether a listen address only accepts connections from this machine. */
export function isLoopback (host: string): boolean {
  const h = host.replace(/^\[(.*)\]$/, '$1').toLowerCase()
  if (h === 'localhost') return true
  if (isIPv4(h)) return h.startsWith('127.')
  if (!isIPv6(h) || h.includes('%')) return false
  // The URL parser writes an IPv6 address one way: ::1, and ::ffff:7fxx:xxxx for 127.x.x.x.
  const canonical = new URL(`http://[${h}]/`).hostname.slice(1, -1)
  return canonical === '::1' || /^::ffff:7f[0-9a-f]{2}:[0-9a-f]{1,4}$/.test(canonical)
}

function bearer (header: string | undefined): string | undefined {
  const m = /^Bearer +(\S+) *$/i.exec(header ?? '')
  return m === null ? undefined : m[1]
}

function digest (text: string): Buffer {
  return createHash('sha256').update(text).digest()
}

function refuse (reply: FastifyReply, err: WaferError): FastifyReply {
  reply.log.warn({ code: err.code }, err.message)
  return reply.code(err.statusCode).type(JSON_ERROR_TYPE).send(errorBody(err.statusCode, err.code, err.message))
}
