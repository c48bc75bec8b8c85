// Issue 12 item 6: a `#` in the request target reached the rewrite filter, whose new path then
// failed the host's own path check: 503 WAFER_ERR_ABI_BAD_OUTPUT blamed on the filter, and five
// such requests opened its circuit breaker for every client. Client input is now held to the
// rule filter output is held to, before any filter runs.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import Fastify from 'fastify'
import wafer from '@wafer/fastify'
import type { FilterStatus } from '@wafer/core'
import { captureLogger, exampleFilter } from '../support/index.ts'
import { exampleFilters, rawRequest, recordingUpstream, startGateway } from '../support/proxy-harness.ts'

/**
 * Targets a client controls that the rewrite filter would pass on into its new path. Raw
 * non-ASCII bytes are refused by Node's parser already; they stay here in case that changes.
 */
const HOSTILE = [
  '/v2/a#frag', '/v2/#', '/v2/a#/../../b', '/v2/a?x=1#f', '/v2/a\\b', '/v2/%2e%2e/x', '/v2/a%2fb', '/v2/%252e',
  '/v2/caf\xe9', '/v2/\xa0', '/v2/x\x85', '/v2/a?q=\xa0', '/v2/./a', '/v2/%zz', 'http://h/v2/a#f', '*'
]

const get = (target: string): string => `GET ${target} HTTP/1.1\r\nHost: gw.test\r\nx-api-key: k1\r\nConnection: close\r\n\r\n`

test('no client-controlled target makes the rewrite filter fail or opens its breaker (gateway)', async (t) => {
  const up = await recordingUpstream(t)
  const { port, adminUrl, lines } = await startGateway(t, {
    filters: exampleFilters({ from: '/v2/', to: '/v3/' }),
    routes: [{ match: { path: '/v2/' }, chain: ['request-id', 'auth', 'rewrite', 'rate-limit'], upstream: up.url }]
  })
  for (let round = 0; round < 3; round++) {
    for (const target of HOSTILE) {
      const res = await rawRequest(port, get(target))
      // 400 from Wafer's rule or from Node's parser (raw non-ASCII bytes); 404 for `*`.
      assert.ok(res.status === 400 || (target === '*' && res.status === 404), `${JSON.stringify(target)} is the client's fault: ${res.status} ${res.body.toString()}`)
    }
  }
  assert.equal(up.received.length, 0)
  const status = await (await fetch(`${adminUrl}/_wafer/status`)).json() as { filters: FilterStatus[] }
  for (const f of status.filters) {
    assert.equal(f.failures, 0, `${f.name} never failed`)
    assert.equal(f.breaker.state, 'closed', `${f.name}'s breaker is closed`)
  }
  assert.deepEqual(lines.filter((l) => l.level >= 40).map((l) => l.msg), [], 'no filter failure was logged')

  const ok = await rawRequest(port, get('/v2/items'))
  assert.equal(ok.status, 200)
  assert.equal(up.received[0]?.line, 'GET /v3/items HTTP/1.1')
})

test('the same holds for a Fastify app\'s own routes under register(wafer)', async (t) => {
  const { logger, lines } = captureLogger('info')
  const app = Fastify({ loggerInstance: logger })
  await app.register(wafer, {
    filters: { rewrite: { module: exampleFilter('rewrite'), config: { prefix: { from: '/v2/', to: '/v3/' } } } },
    chain: ['rewrite']
  })
  app.get('/*', async (request) => ({ url: request.url }))
  t.after(() => app.close())
  await app.listen({ port: 0, host: '127.0.0.1' })
  const port = (app.server.address() as { port: number }).port
  for (let round = 0; round < 2; round++) {
    for (const target of HOSTILE.filter((h) => h !== '*')) {
      const res = await rawRequest(port, get(target))
      assert.equal(res.status, 400, JSON.stringify(target))
    }
  }
  const rewrite = app.wafer.status().filters.find((f) => f.name === 'rewrite')
  assert.equal(rewrite?.failures, 0)
  assert.equal(rewrite?.breaker.state, 'closed')
  assert.deepEqual(lines.filter((l) => l.level >= 40).map((l) => l.msg), [])
  const ok = await rawRequest(port, get('/v2/%69tems?x=1'))
  assert.equal(ok.status, 200)
  assert.deepEqual(JSON.parse(ok.body.toString()), { url: '/v3/items?x=1' }, 'the route sees the normalised, rewritten target')
})
