import type { ResolvedConfig } from '@wafer/core'
import Fastify, { type FastifyInstance } from 'fastify'
import type { GatewayMetrics } from './metrics.js'

/**
 * The admin side, on its own listener (by default 127.0.0.1:9901) so status and metrics are
 * never exposed on the public port: `GET /_wafer/status` and `GET /metrics`.
 */
export async function adminServer (app: FastifyInstance, config: ResolvedConfig, metrics: GatewayMetrics): Promise<FastifyInstance> {
  const admin = Fastify({ loggerInstance: app.log.child({ server: 'admin' }) })
  const started = Date.now()
  admin.get('/_wafer/status', async () => {
    const status = app.wafer.status()
    return {
      status: 'ok',
      uptimeSeconds: Math.round((Date.now() - started) / 1000),
      config: config.source,
      filters: status.filters,
      chains: status.chains,
      routes: config.routes.map((r) => ({
        index: r.index,
        match: r.match,
        chain: r.chain,
        ...(r.upstream !== undefined ? { upstream: r.upstream.url } : { respond: r.respond?.status })
      }))
    }
  })
  admin.get('/metrics', async (_request, reply) => {
    reply.type(metrics.registry.contentType)
    return metrics.registry.metrics()
  })
  await admin.ready()
  return admin
}
