// The shared end-to-end scenarios (scenarios.ts) against @wafer/express, on Express 5 and on
// Express 4 (the `express4` alias of express@4 in the root devDependencies): the middleware
// declares both as peers.
import { once } from 'node:events'
import type { AddressInfo } from 'node:net'
import { silent } from '../support/index.ts'
import express5, { type Request, type Response } from 'express'
import express4 from 'express4'
import { createWaferMiddleware } from '@wafer/express'
import { scenarios, type AppOptions, type TestApp } from './scenarios.ts'

async function expressApp (express: typeof express5, options: AppOptions): Promise<TestApp> {
  const bodyLimit = options.bodyLimit ?? 1024 * 1024
  const middleware = await createWaferMiddleware({ ...options.wafer, logger: options.logger ?? silent, bodyLimit })
  const app = express()
  app.use(middleware)
  // After Wafer: the parsers read the body the filters left.
  app.use(express.json({ limit: bodyLimit }))
  app.use(express.text({ limit: bodyLimit }))
  const echo = (req: Request, res: Response): void => {
    res.json({ method: req.method, url: req.url, query: req.query, headers: req.headers, ...(req.body === undefined ? {} : { body: req.body }) })
  }
  app.get('/echo', echo)
  app.post('/echo', echo)
  app.get('/slow', async (req, res) => {
    await options.hold?.()
    echo(req, res)
  })
  app.get('/stream', (_req, res) => {
    res.type('text/plain')
    res.write('a')
    setTimeout(() => {
      res.write('b')
      setTimeout(() => res.end('c'), 5)
    }, 5)
  })
  for (const route of options.routes ?? []) app.get(route.path, middleware.chain(route.chain), echo)
  app.use(echo) // any other path and method (the catch-all syntax differs between 4 and 5)
  const server = app.listen(0, '127.0.0.1')
  await once(server, 'listening')
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    runtime: middleware.wafer,
    reload: (definition) => middleware.wafer.reload(definition),
    reloadConfig: (config) => middleware.reload(config),
    close: async () => {
      const closed = once(server, 'close')
      server.close()
      server.closeAllConnections()
      await closed
      await middleware.close()
    }
  }
}

scenarios('express', (options) => expressApp(express5, options))
scenarios('express 4', (options) => expressApp(express4, options))
