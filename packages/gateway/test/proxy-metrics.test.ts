// Proxy-Wasm metrics (docs/proxy-wasm.md, "Metrics") from an unmodified SDK filter
// (test/fixtures/guests/proxy-sdk-metrics.ts): on the gateway's /metrics with the filter label,
// and for a Fastify user through the runtime's proxyMetrics (snapshot, a prom-client Registry).
import assert from 'node:assert/strict'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { test, type TestContext } from 'node:test'
import Fastify from 'fastify'
import wafer from '@wafer/fastify'
import { Registry } from 'prom-client'
import { Gateway } from '../src/index.ts'
import { captureLogger, fixture, silent } from '../../../test/support/index.ts'

/** An upstream that answers every request with the request headers it received, as JSON. */
async function upstream (t: TestContext): Promise<string> {
  const server = createServer((req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' })
    res.end(JSON.stringify(req.headers))
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  t.after(() => { server.closeAllConnections(); server.close() })
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`
}

test('gateway: a counter, a gauge and a histogram a filter defines are on /metrics with the filter label, under sanitised names, with Envoy\'s rules for each type', async (t) => {
  const up = await upstream(t)
  const gw = await Gateway.create({
    config: {
      server: { logger: { level: 'silent' } },
      admin: { port: 0 },
      filters: { counted: { module: fixture('proxy-sdk-metrics'), pool: { min: 2, max: 2 } } },
      chains: { m: ['counted'] },
      routes: [{ match: { path: '/m/' }, chain: 'm', upstream: up }]
    } as never,
    port: 0,
    logger: silent
  })
  t.after(() => gw.close())
  const { url, adminUrl } = await gw.listen()
  const seen: Array<Record<string, string>> = []
  for (const size of ['7', '30', '2000']) {
    const res = await fetch(`${url}/m/x`, { headers: { 'x-size': size } })
    assert.equal(res.status, 200)
    seen.push(await res.json() as Record<string, string>)
  }
  assert.deepEqual(seen.map((h) => h['x-requests']), ['1', '2', '3'], 'proxy_get_metric reads the counter back')
  // increment a counter by -1, increment a histogram, read a histogram: BAD_ARGUMENT; an unknown id: NOT_FOUND; type 3: BAD_ARGUMENT
  assert.equal(seen[0]?.['x-statuses'], '2,2,2,1,2')

  const metrics = await (await fetch(`${adminUrl as string}/metrics`)).text()
  assert.match(metrics, /^# TYPE wafer_proxy_wafer_test_requests_total counter$/m)
  assert.match(metrics, /^wafer_proxy_wafer_test_requests_total\{filter="counted",name="wafer_test\.requests"\} 3$/m,
    'one counter for both pooled instances: each defined the same name in its root context')
  assert.match(metrics, /^# TYPE wafer_proxy_wafer_test_last_size gauge$/m)
  assert.match(metrics, /^wafer_proxy_wafer_test_last_size\{filter="counted",name="wafer_test\.last-size"\} 2000$/m)
  assert.match(metrics, /^# TYPE wafer_proxy_wafer_test_size histogram$/m)
  assert.match(metrics, /^wafer_proxy_wafer_test_size_bucket\{filter="counted",name="wafer_test\.size",le="10"\} 1$/m)
  assert.match(metrics, /^wafer_proxy_wafer_test_size_bucket\{filter="counted",name="wafer_test\.size",le="50"\} 2$/m)
  assert.match(metrics, /^wafer_proxy_wafer_test_size_bucket\{filter="counted",name="wafer_test\.size",le="\+Inf"\} 3$/m)
  assert.match(metrics, /^wafer_proxy_wafer_test_size_sum\{filter="counted",name="wafer_test\.size"\} 2037$/m)
  assert.match(metrics, /^wafer_proxy_wafer_test_size_count\{filter="counted",name="wafer_test\.size"\} 3$/m)
  assert.match(metrics, /^wafer_filter_calls_total\{filter="counted"/m, 'beside the gateway\'s own metrics')
})

test('fastify: the runtime\'s proxyMetrics gives a snapshot and registers on a prom-client Registry, also metrics defined after it; past 256 per filter a define gets INTERNAL_FAILURE and one warning', async (t) => {
  const { logger, lines } = captureLogger('info')
  const app = Fastify({ loggerInstance: logger })
  await app.register(wafer, { filters: { counted: { module: fixture('proxy-sdk-metrics') } } })
  app.get('/', { config: { wafer: { chain: ['counted'] } } }, async () => ({ ok: true }))
  t.after(() => app.close())
  const registry = new Registry()
  app.wafer.proxyMetrics.register(registry)
  for (const size of ['1', '3']) assert.equal((await app.inject({ url: '/', headers: { 'x-size': size } })).statusCode, 200)

  const snapshot = app.wafer.proxyMetrics.snapshot()
  assert.deepEqual(snapshot.filter((m) => m.type !== 'histogram'), [
    { filter: 'counted', name: 'wafer_test.requests', type: 'counter', value: 2 },
    { filter: 'counted', name: 'wafer_test.last-size', type: 'gauge', value: 3 }
  ])
  const histogram = snapshot.find((m) => m.type === 'histogram')
  assert.deepEqual([histogram?.value, histogram?.count, histogram?.buckets?.find((b) => b.le === 1)?.count, histogram?.buckets?.find((b) => b.le === 5)?.count], [4, 2, 1, 2])
  assert.match(await registry.metrics(), /^wafer_proxy_wafer_test_requests_total\{filter="counted",name="wafer_test\.requests"\} 2$/m)

  // A reload adds a filter that defines 3 + 300 metrics: 256 fit, the rest get INTERNAL_FAILURE.
  const report = await app.wafer.reload({ filters: { counted: { module: fixture('proxy-sdk-metrics') }, many: { module: fixture('proxy-sdk-metrics'), config: 'many: 300' } } })
  assert.equal(report.outcome, 'applied')
  assert.ok(lines.some((l) => l.filter === 'many' && /metrics filter: defined 253 of 300, first failure status 10/.test(l.msg)), 'the guest saw 253 more defined, then INTERNAL_FAILURE (10)')
  const warnings = lines.filter((l) => l.level === 40 && /defines more than 256 metrics/.test(l.msg))
  assert.equal(warnings.length, 1, 'one warning, however many defines were refused')
  assert.equal(warnings[0]?.filter, 'many')
  const text = await registry.metrics()
  assert.match(text, /^wafer_proxy_many_0_total\{filter="many",name="many\.0"\} 0$/m, 'a metric defined after register() is exported too')
  assert.match(text, /^wafer_proxy_wafer_test_requests_total\{filter="many",name="wafer_test\.requests"\} 0$/m, 'same name, another filter: another line of the family')
  assert.equal(app.wafer.proxyMetrics.snapshot().filter((m) => m.filter === 'many').length, 256)
})
