// One app per adapter, for end-to-end tests that run the same checks through the Fastify plugin
// and the Express middleware over real sockets: an echo route that answers with what reached
// it, the filters and chain given, and a real pino logger whose JSON lines the test reads.
import type { TestContext } from 'node:test'
import express from 'express'
import Fastify from 'fastify'
import wafer from '@wafer/fastify'
import { createWaferMiddleware } from '@wafer/express'
import type { ChainSpec, Wafer, WaferDefinition } from '@wafer/core'
import { captureLogger, type LogLine } from './index.ts'
import { listenLocal } from './local-server.ts'

export interface AppOptions {
  filters: WaferDefinition['filters']
  /** The chain every request goes through. */
  chain?: ChainSpec
}

export interface AdapterApp {
  url: string
  runtime: Wafer
  lines: LogLine[]
  close: () => Promise<void>
}

/** What the echo route answers: the request as the route saw it. */
export interface Echo {
  method: string
  url: string
  headers: Record<string, string | undefined>
}

async function fastifyApp (o: AppOptions): Promise<AdapterApp> {
  const { logger, lines } = captureLogger('info')
  const app = Fastify({ loggerInstance: logger })
  await app.register(wafer, { filters: o.filters, ...(o.chain === undefined ? {} : { chain: o.chain }) })
  app.all('/*', async (req) => ({ method: req.method, url: req.url, headers: req.headers }))
  const url = await app.listen({ port: 0, host: '127.0.0.1' })
  return { url, runtime: app.wafer, lines, close: () => app.close() }
}

async function expressApp (o: AppOptions): Promise<AdapterApp> {
  const { logger, lines } = captureLogger('info')
  const middleware = await createWaferMiddleware({ filters: o.filters, logger, ...(o.chain === undefined ? {} : { chain: o.chain }) })
  const app = express()
  app.use(middleware)
  app.use((req: express.Request, res: express.Response) => { res.json({ method: req.method, url: req.url, headers: req.headers }) })
  const { url, close } = await listenLocal(app, () => middleware.close())
  return { url, runtime: middleware.wafer, lines, close }
}

/** The two adapters, by name. */
export const adapters = [['fastify', fastifyApp], ['express', expressApp]] as const

/** Starts `make` and closes it after the test. */
export async function runApp (t: TestContext, make: (o: AppOptions) => Promise<AdapterApp>, o: AppOptions): Promise<AdapterApp> {
  const app = await make(o)
  t.after(() => app.close())
  return app
}
