// Regression: with a RedisStore, a Proxy-Wasm root context's proxy_on_configure got
// INTERNAL_FAILURE from proxy_get_shared_data, because Filter.load configured the first instance
// before the Redis table had connected (the runtime waited for it only after every filter had
// loaded). A filter that creates its shared data when configured (as Envoy filters do, here the
// @solo-io/proxy-runtime counter) then never created it. The table now settles before the first
// instance is configured, at startup and on reload.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import Fastify from 'fastify'
import wafer from '@wafer/fastify'
import { RedisStore } from '@wafer/redis-store'
import { captureLogger, fixture } from '../support/index.ts'
import { startRedis } from '../support/redis.ts'

test('a root context reads and creates shared data in proxy_on_configure on a RedisStore, at startup and on reload', async (t) => {
  const redis = await startRedis()
  t.after(() => redis.stop())
  const { logger, lines } = captureLogger('info')
  const store = new RedisStore({ url: redis.url, keyPrefix: `on-configure-${process.pid}-${Date.now()}:`, sharedDataTimeoutMs: 1000 })
  const app = Fastify({ loggerInstance: logger })
  await app.register(wafer, { filters: { counter: { module: fixture('proxy-solo-counter'), proxyWasm: { rootId: 'solo_counter' } } }, store })
  app.get('/op', { config: { wafer: { chain: ['counter'] } } }, async () => ({ ok: true }))
  t.after(async () => { await app.close(); await store.close() })

  const configured = lines.filter((l) => l.filter === 'counter' && l.msg.startsWith('solo counter: '))
  assert.deepEqual(configured.map((l) => l.msg), ['solo counter: created solo.counter: 0'], 'proxy_get_shared_data answered NOT_FOUND (not INTERNAL_FAILURE), and the set was OK')
  const res = await app.inject({ url: '/op', headers: { 'x-op': 'read' } })
  assert.equal(res.statusCode, 200)
  assert.equal(res.body, '0')

  const report = await app.wafer.reload({ filters: { counter: { module: fixture('proxy-solo-counter'), config: 'v2', proxyWasm: { rootId: 'solo_counter' } } } })
  assert.equal(report.outcome, 'applied')
  assert.equal(lines.filter((l) => l.filter === 'counter' && l.level >= 50).length, 0, 'the reloaded root context read the counter')
})
