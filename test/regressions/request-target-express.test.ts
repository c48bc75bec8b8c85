// Issue 12 items 1, 2 and 6 in the Express adapter: its filters saw the raw target too, so a
// fragment failed the rewrite filter (and counted toward its breaker), and an absolute-form
// target reached them as "http://...". The request-target rule now runs before its first filter.
import assert from 'node:assert/strict'
import { once } from 'node:events'
import type { AddressInfo } from 'node:net'
import { test } from 'node:test'
import express from 'express'
import { createWaferMiddleware } from '@wafer/express'
import { captureLogger, exampleFilter } from '../support/index.ts'
import { rawRequest } from '../support/proxy-harness.ts'

const HOSTILE = ['/v2/a#frag', '/v2/a?x=1#f', '/v2/a\\..\\b', '/v2/%2e%2e/x', '/v2/..%2fx', '/v2/a%5cb', '/v2/%252e%252e/x', '/v2/./a', 'http://h/v2/#f']

test('Express: hostile targets are refused before the filters; the breaker stays closed', async (t) => {
  const { logger, lines } = captureLogger('info')
  const mw = await createWaferMiddleware({
    filters: { rewrite: { module: exampleFilter('rewrite'), config: { prefix: { from: '/v2/', to: '/v3/' } } } },
    logger
  })
  t.after(() => mw.close())
  await mw.ready
  const app = express()
  app.use(mw.chain(['rewrite']))
  app.use((req, res) => { res.json({ url: req.url }) })
  const server = app.listen(0, '127.0.0.1')
  await once(server, 'listening')
  t.after(() => { server.closeAllConnections(); server.close() })
  const port = (server.address() as AddressInfo).port
  const get = (target: string): string => `GET ${target} HTTP/1.1\r\nHost: app.test\r\nConnection: close\r\n\r\n`

  for (let round = 0; round < 2; round++) {
    for (const target of HOSTILE) {
      const res = await rawRequest(port, get(target))
      assert.equal(res.status, 400, target)
      assert.equal(JSON.parse(res.body.toString()).code, 'WAFER_ERR_BAD_REQUEST_TARGET', target)
    }
  }
  const rewrite = mw.wafer.status().filters.find((f) => f.name === 'rewrite')
  assert.equal(rewrite?.failures, 0)
  assert.equal(rewrite?.breaker.state, 'closed')
  assert.equal(lines.filter((l) => l.level >= 40).length, 0, 'no filter failure logged')
  assert.ok(lines.some((l) => (l.err as { code?: string } | undefined)?.code === 'WAFER_ERR_BAD_REQUEST_TARGET'), 'each refusal is logged')

  const normalised = await rawRequest(port, get('/v2/%69tems?x=1'))
  assert.deepEqual(JSON.parse(normalised.body.toString()), { url: '/v3/items?x=1' })
  const absolute = await rawRequest(port, get('http://evil.example/v2/x?y=1'))
  assert.deepEqual(JSON.parse(absolute.body.toString()), { url: '/v3/x?y=1' }, 'the filter saw /v2/x, and the route the rewrite')
})
