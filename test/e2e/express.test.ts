// The shared end-to-end scenarios (scenarios.ts) against @wafer/express.
import { once } from 'node:events'
import type { AddressInfo } from 'node:net'
import { silent } from '../support/index.ts'
import express, { type Request, type Response } from 'express'
import { createWaferMiddleware } from '@wafer/express'
import { scenarios, type AppOptions, type TestApp } from './scenarios.ts'

async function expressApp (options: AppOptions): Promise<TestApp> {
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
  app.all('/{*path}', echo)
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

scenarios('express', expressApp)
