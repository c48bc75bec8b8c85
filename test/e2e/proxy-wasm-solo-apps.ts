// The apps the @solo-io/proxy-runtime behaviour checks (proxy-wasm-solo-*.test.ts) run through:
// one per adapter over a real socket, with a real pino logger whose JSON lines the test reads.
// Every route echoes the request as it arrived (method, target, headers, a text body) and sets
// two response headers the filters rewrite (`x-route-tag: route`, `x-route-drop: 1`); `/count`
// requests wait at a barrier until `barrier` of them have arrived, so that every one reads
// shared data before any writes it.
import type { TestContext } from 'node:test'
import express from 'express'
import Fastify from 'fastify'
import wafer from '@wafer/fastify'
import { createWaferMiddleware } from '@wafer/express'
import type { ChainSpec, Wafer, WaferDefinition } from '@wafer/core'
import { captureLogger, listenLocal, type LogLine } from '../support/index.ts'

export interface SoloAppOptions {
  filters: WaferDefinition['filters']
  /** Path prefix (`/x`) -> the chain of the requests under it. */
  routes: Record<string, ChainSpec>
  /** How many `/count` requests the barrier holds until all arrived (default 1: none held). */
  barrier?: number
}

export interface SoloApp {
  url: string
  runtime: Wafer
  lines: LogLine[]
}

/** What every route answers: the request as it reached the route. */
export interface SoloEcho {
  method: string
  url: string
  headers: Record<string, string | undefined>
  body?: string
}

const ROUTE_HEADERS = { 'x-route-tag': 'route', 'x-route-drop': '1' }

/** Holds callers until `n` have arrived, then lets them all go. */
function barrier (n: number): () => Promise<void> {
  let arrived = 0
  let release: () => void = () => {}
  const all = new Promise<void>((resolve) => { release = resolve })
  return async () => {
    if (++arrived >= n) release()
    await all
  }
}

function echoOf (req: { method: string, url: string, headers: unknown, body?: unknown }): SoloEcho {
  return { method: req.method, url: req.url, headers: req.headers as SoloEcho['headers'], ...(typeof req.body === 'string' ? { body: req.body } : {}) }
}

async function fastifyApp (t: TestContext, o: SoloAppOptions): Promise<SoloApp> {
  const { logger, lines } = captureLogger('info')
  const app = Fastify({ loggerInstance: logger })
  await app.register(wafer, { filters: o.filters })
  const wait = barrier(o.barrier ?? 1)
  for (const [prefix, chain] of Object.entries(o.routes)) {
    app.all(`${prefix}/*`, { config: { wafer: { chain } } }, async (req, reply) => {
      if (prefix === '/count') await wait()
      void reply.headers(ROUTE_HEADERS)
      return echoOf(req)
    })
  }
  const url = await app.listen({ port: 0, host: '127.0.0.1' })
  t.after(() => app.close())
  return { url, runtime: app.wafer, lines }
}

async function expressApp (t: TestContext, o: SoloAppOptions): Promise<SoloApp> {
  const { logger, lines } = captureLogger('info')
  const middleware = await createWaferMiddleware({ filters: o.filters, logger })
  const app = express()
  const wait = barrier(o.barrier ?? 1)
  for (const [prefix, chain] of Object.entries(o.routes)) {
    app.use(prefix, middleware.chain(chain), express.text(), (req: express.Request, res: express.Response, next: express.NextFunction) => {
      const answer = (): void => { res.set(ROUTE_HEADERS).json(echoOf({ method: req.method, url: req.originalUrl, headers: req.headers, body: req.body })) }
      if (prefix === '/count') wait().then(answer, next)
      else answer()
    })
  }
  const { url, close } = await listenLocal(app, () => middleware.close())
  t.after(close)
  return { url, runtime: middleware.wafer, lines }
}

/** The two adapters, by name: each starts an app that is closed after the test. */
export const soloAdapters = [['fastify', fastifyApp], ['express', expressApp]] as const
