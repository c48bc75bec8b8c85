import type { ReloadReport, ResolvedConfig } from '@wafer/core'
import Fastify, { type FastifyInstance } from 'fastify'
import type { GatewayMetrics } from './metrics.js'

/**
 * The admin side, on its own listener (by default 127.0.0.1:9901) so status, metrics and
 * reloads are never exposed on the public port: `GET /_wafer/status`, `GET /metrics`,
 * `POST /_wafer/reload`.
 */
export async function adminServer (app: FastifyInstance, config: ResolvedConfig, metrics: GatewayMetrics,
  reload: () => Promise<ReloadReport>): Promise<FastifyInstance> {
  const admin = Fastify({ loggerInstance: app.log.child({ server: 'admin' }) })
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
