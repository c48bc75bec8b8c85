// One app per adapter, for end-to-end tests that run the same checks through the Fastify plugin
// and the Express middleware over real sockets: echo routes that answer with what reached them,
// the filters and chains given, and a real pino logger whose JSON lines the test reads.
import type { TestContext } from 'node:test'
import express from 'express'
import Fastify, { type FastifyReply, type FastifyRequest } from 'fastify'
import wafer from '@wafer/fastify'
import { createWaferMiddleware } from '@wafer/express'
import type { ChainSpec, Wafer, WaferDefinition } from '@wafer/core'
import { captureLogger, type LogLine } from './index.ts'
import { listenLocal } from './local-server.ts'

export interface AppOptions {
  filters: WaferDefinition['filters']
  /** The chain every request goes through. */
  chain?: ChainSpec
  /** Routes with a chain of their own: GET requests to exactly `path`. */
  routes?: Array<{ path: string, chain: ChainSpec }>
  /** Routes with a chain of their own by prefix (`/x`): requests of any method under it (`/x/...`). */
  prefixes?: Record<string, ChainSpec>
  /**
   * Requests to the `/count` route or prefix wait until this many have arrived (default 1: none
   * is held), so that every one runs its request phase before any runs its response phase.
   */
  barrier?: number
  /** Response headers every route sets (for filters that rewrite or remove them). */
  replyHeaders?: Record<string, string>
}

export interface AdapterApp {
  url: string
  runtime: Wafer
  lines: LogLine[]
  close: () => Promise<void>
}

/** What every route answers, and every other path too: the request as the route saw it, with a text body. */
export interface Echo {
  method: string
  url: string
  headers: Record<string, string | undefined>
  body?: string
}

function echoOf (req: { method: string, url: string, headers: unknown, body?: unknown }): Echo {
  return { method: req.method, url: req.url, headers: req.headers as Echo['headers'], ...(typeof req.body === 'string' ? { body: req.body } : {}) }
}

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

/** Each route with a chain of its own: its path, and whether it is a prefix. */
function ownRoutes (o: AppOptions): Array<{ path: string, chain: ChainSpec, prefix: boolean }> {
  return [
    ...(o.routes ?? []).map((r) => ({ ...r, prefix: false })),
    ...Object.entries(o.prefixes ?? {}).map(([path, chain]) => ({ path, chain, prefix: true }))
  ]
}

async function fastifyApp (o: AppOptions): Promise<AdapterApp> {
  const { logger, lines } = captureLogger('info')
  const app = Fastify({ loggerInstance: logger })
  await app.register(wafer, { filters: o.filters, ...(o.chain === undefined ? {} : { chain: o.chain }) })
  const wait = barrier(o.barrier ?? 1)
  const echo = (counted: boolean) => async (req: FastifyRequest, reply: FastifyReply): Promise<Echo> => {
    if (counted) await wait()
    if (o.replyHeaders !== undefined) void reply.headers(o.replyHeaders)
    return echoOf(req)
  }
  for (const r of ownRoutes(o)) {
    const options = { config: { wafer: { chain: r.chain } } }
    if (r.prefix) app.all(`${r.path}/*`, options, echo(r.path === '/count'))
    else app.get(r.path, options, echo(r.path === '/count'))
  }
  app.all('/*', echo(false))
  const url = await app.listen({ port: 0, host: '127.0.0.1' })
  return { url, runtime: app.wafer, lines, close: () => app.close() }
}

async function expressApp (o: AppOptions): Promise<AdapterApp> {
  const { logger, lines } = captureLogger('info')
  const middleware = await createWaferMiddleware({ filters: o.filters, logger, ...(o.chain === undefined ? {} : { chain: o.chain }) })
  const app = express()
  app.use(middleware)
  const wait = barrier(o.barrier ?? 1)
  // The body parser runs after the chain: the filters read the body first, the route what they left.
  const echo = (counted: boolean) => [express.text(), (req: express.Request, res: express.Response, next: express.NextFunction): void => {
    const answer = (): void => {
      if (o.replyHeaders !== undefined) res.set(o.replyHeaders)
      // Under a mount path req.url is what is left of the path; the route saw the whole of it.
      res.json(echoOf({ method: req.method, url: req.baseUrl + req.url, headers: req.headers, body: req.body }))
    }
    if (counted) wait().then(answer, next)
    else answer()
  }]
  for (const r of ownRoutes(o)) {
    if (r.prefix) app.use(r.path, middleware.chain(r.chain), ...echo(r.path === '/count'))
    else app.get(r.path, middleware.chain(r.chain), ...echo(r.path === '/count'))
  }
  app.use(...echo(false))
  const { url, close } = await listenLocal(app, () => middleware.close())
  return { url, runtime: middleware.wafer, lines, close }
}

/** The error log line of `filter` (a failed request, a failure outside any), with the error it carries. */
export function failure (lines: LogLine[], filter: string): { code: string, message: string } | undefined {
  const line = lines.find((l) => l.filter === filter && l.level === 50 && typeof l.err === 'object')
  return line?.err as { code: string, message: string } | undefined
}

/** The two adapters, by name. */
export const adapters = [['fastify', fastifyApp], ['express', expressApp]] as const

/** Starts `make` and closes it after the test. */
export async function runApp (t: TestContext, make: (o: AppOptions) => Promise<AdapterApp>, o: AppOptions): Promise<AdapterApp> {
  const app = await make(o)
  t.after(() => app.close())
  return app
}
