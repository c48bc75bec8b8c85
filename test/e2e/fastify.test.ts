// The shared end-to-end scenarios (scenarios.ts) against @wafer/fastify.
import { Readable } from 'node:stream'
import Fastify, { type FastifyRequest } from 'fastify'
import wafer from '@wafer/fastify'
import { silent } from '../support/index.ts'
import { scenarios, type AppOptions, type TestApp } from './scenarios.ts'

async function fastifyApp (options: AppOptions): Promise<TestApp> {
  const app = Fastify({ loggerInstance: options.logger ?? silent, bodyLimit: options.bodyLimit ?? 1024 * 1024 })
  await app.register(wafer, options.wafer)
  const echo = async (req: FastifyRequest) => ({
    method: req.method,
    url: req.url,
    query: req.query,
    headers: req.headers,
    ...(req.body === undefined ? {} : { body: req.body })
  })
  app.get('/echo', echo)
  app.post('/echo', echo)
  app.get('/slow', async (req) => {
    await options.hold?.()
    return echo(req)
  })
  app.get('/stream', async (_req, reply) => reply.type('text/plain').send(Readable.from(['a', 'b', 'c'])))
  for (const route of options.routes ?? []) app.get(route.path, { config: { wafer: { chain: route.chain } } }, echo)
  app.all('/*', echo)
  const url = await app.listen({ port: 0, host: '127.0.0.1' })
  return {
    url,
    runtime: app.wafer,
    reload: (definition) => app.wafer.reload(definition),
    reloadConfig: (config) => app.waferReload(config),
    close: () => app.close()
  }
}

scenarios('fastify', fastifyApp)
