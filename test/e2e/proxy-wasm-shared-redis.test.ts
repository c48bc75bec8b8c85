// Proxy-Wasm shared data across processes on a real Redis (docs/proxy-wasm.md, "Shared data
// across processes"): two child processes, each with its own Wafer runtime and RedisStore,
// increment one counter with CAS retries and end at exactly the total; a Redis that is stopped
// or frozen makes the host call answer INTERNAL_FAILURE quickly, with a warning in the log.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import Fastify from 'fastify'
import wafer from '@wafer/fastify'
import { RedisStore } from '@wafer/redis-store'
import { captureLogger, fixture, silent, until } from '../support/index.ts'
import { spawnRedis, startRedis } from '../support/redis.ts'
import { startSharedDataChild } from '../support/shared-data-process.ts'

const OK = '0'
const INTERNAL_FAILURE = '10'

/** Polls an asynchronous check every 20 ms for up to 10 s. */
async function eventually (what: string, check: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + 10_000
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
}

async function op (url: string, headers: Record<string, string>): Promise<Response> {
  // A hang would be a failure: no call may wait on Redis past its bound.
  return await fetch(`${url}/op`, { headers, signal: AbortSignal.timeout(5000) })
}

test('two processes, each with its own Wafer and RedisStore, increment one counter with CAS retries: it ends at exactly the total', async (t) => {
  const redis = await startRedis()
  t.after(() => redis.stop())
  const prefix = `shared-${process.pid}-${Date.now()}:`
  const perProcess = 25
  const [a, b] = await Promise.all([startSharedDataChild(t, redis.url, prefix, fixture('proxy-sdk-shared'), perProcess), startSharedDataChild(t, redis.url, prefix, fixture('proxy-sdk-shared'), perProcess)]) as [string, string]
  assert.equal((await op(a, { 'x-op': 'set', 'x-value': '0' })).headers.get('x-status'), OK)
  // Process b learns of the counter (from Redis, or from the change a's write published).
  await eventually('b reads the counter', async () => (await op(b, { 'x-op': 'read' })).status === 200)
  const replies = await Promise.all([a, b].flatMap((url) => Array.from({ length: perProcess }, async () => {
    const res = await fetch(`${url}/count`, { headers: { 'x-op': 'incr' }, signal: AbortSignal.timeout(30_000) })
    await res.arrayBuffer()
    return { url, count: Number(res.headers.get('x-count')), retries: Number(res.headers.get('x-retries')), result: res.headers.get('x-status') }
  })))
  assert.deepEqual(replies.filter((r) => r.result !== OK), [], 'every increment succeeded')
  const total = 2 * perProcess
  for (const url of [a, b]) {
    const res = await op(url, { 'x-op': 'read' })
    assert.equal(await res.text(), String(total), `${url} reads the total`)
  }
  assert.deepEqual(replies.map((r) => r.count).sort((x, y) => x - y), Array.from({ length: total }, (_, i) => i + 1), 'each increment wrote a different value')
  assert.ok(replies.reduce((s, r) => s + r.retries, 0) >= perProcess - 1, 'the increments raced (CAS_MISMATCH, then a retry)')
})

test('Redis stopped or frozen: shared-data calls answer INTERNAL_FAILURE within sharedDataTimeoutMs, a warning is logged, nothing hangs; it recovers', async (t) => {
  const redis = await spawnRedis()
  t.after(() => redis.stop())
  const { logger, lines } = captureLogger('info')
  const store = new RedisStore({ url: redis.url, logger, sharedDataTimeoutMs: 50 })
  // Closed here too: if the plugin fails to register, nothing else closes the store's connection
  // and the process never exits.
  t.after(() => store.close())
  const app = Fastify({ loggerInstance: silent })
  await app.register(wafer, { filters: { shared: { module: fixture('proxy-sdk-shared') } }, store })
  app.get('/op', { config: { wafer: { chain: ['shared'] } } }, async () => ({ ok: true }))
  const url = await app.listen({ port: 0, host: '127.0.0.1' })
  t.after(() => app.close())

  assert.equal((await op(url, { 'x-op': 'set', 'x-value': 'before' })).headers.get('x-status'), OK)
  assert.equal(await (await op(url, { 'x-op': 'read' })).text(), 'before')

  redis.pause()
  const frozen = await op(url, { 'x-op': 'set', 'x-value': 'frozen' })
  assert.equal(frozen.headers.get('x-status'), INTERNAL_FAILURE)
  await until('the timeout warning', () => lines.some((l) => l.level === 40 && l.reason === 'timeout' &&
    /Proxy-Wasm shared data in Redis is failing: proxy_set_shared_data: Redis did not answer within 50 ms \(sharedDataTimeoutMs\); the write may still be applied/.test(l.msg)))
  redis.resume()

  await redis.stop()
  const down = await op(url, { 'x-op': 'set', 'x-key': 'other', 'x-value': 'down' })
  assert.equal(down.headers.get('x-status'), INTERNAL_FAILURE)
  const read = await op(url, { 'x-op': 'read', 'x-key': 'other' })
  assert.deepEqual([read.status, read.headers.get('x-status')], [404, INTERNAL_FAILURE], 'with the subscription lost, reads go to Redis too, and fail')
  await until('the unavailable warning', () => lines.some((l) => l.level === 40 && l.reason === 'unavailable' && /Proxy-Wasm shared data in Redis is failing/.test(l.msg)))

  await redis.restart()
  await eventually('writes work again', async () => (await op(url, { 'x-op': 'set', 'x-value': 'after' })).headers.get('x-status') === OK)
  assert.equal(await (await op(url, { 'x-op': 'read' })).text(), 'after')
})
