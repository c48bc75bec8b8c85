// The example rate-limit filter through the Fastify plugin with RedisStore: what docs/scaling.md
// promises, checked end to end.
import assert from 'node:assert/strict'
import { test, type TestContext } from 'node:test'
import Fastify from 'fastify'
import wafer from '@wafer/fastify'
import type { FailurePolicy } from '@wafer/core'
import { exampleFilter, silent } from '../../../test/support/index.ts'
import { spawnRedis, startRedis } from '../../../test/support/redis.ts'
import { RedisStore } from '../src/index.ts'
import { deleteKeys, timed, uniquePrefix } from './helpers.ts'

async function app (t: TestContext, store: RedisStore, config: unknown, failurePolicy: FailurePolicy = 'fail-closed') {
  const fastify = Fastify({ loggerInstance: silent })
  // The plugin closes the store with the app (Wafer#close closes its store).
  await fastify.register(wafer, { store, filters: { rl: { module: exampleFilter('rate-limit'), config, failurePolicy } }, chain: ['rl'] })
  fastify.get('/', async () => 'ok')
  t.after(() => fastify.close())
  return fastify
}

test('fixed window across two apps, each with its own connection to one Redis: exactly `limit` requests pass', async (t) => {
  const redis = await startRedis()
  const keyPrefix = uniquePrefix()
  t.after(async () => { if (redis.external) await deleteKeys(redis.url, keyPrefix); await redis.stop() })
  const config = { algorithm: 'fixed-window', limit: 5, windowMs: 60_000, key: 'ip' }
  const a = await app(t, new RedisStore({ url: redis.url, keyPrefix, timeoutMs: 5000 }), config)
  const b = await app(t, new RedisStore({ url: redis.url, keyPrefix, timeoutMs: 5000 }), config)
  const replies = await Promise.all(Array.from({ length: 16 }, async (_, i) => await (i % 2 === 0 ? a : b).inject({ url: '/', remoteAddress: '10.0.0.7' })))
  const statuses = replies.map((r) => r.statusCode)
  assert.equal(statuses.filter((s) => s === 200).length, 5, statuses.join(' '))
  assert.equal(statuses.filter((s) => s === 429).length, 11)
  const other = await b.inject({ url: '/', remoteAddress: '10.0.0.8' })
  assert.equal(other.statusCode, 200, 'another client has its own counter')
})

test('token bucket through Redis (get, then set, each answered later): a burst, then 429 with the RateLimit headers', async (t) => {
  const redis = await startRedis()
  const keyPrefix = uniquePrefix()
  t.after(async () => { if (redis.external) await deleteKeys(redis.url, keyPrefix); await redis.stop() })
  const fastify = await app(t, new RedisStore({ url: redis.url, keyPrefix, timeoutMs: 5000 }), { algorithm: 'token-bucket', burst: 3, refillPerSecond: 0.001, key: 'header:x-user' })
  const replies = []
  for (let i = 0; i < 4; i++) replies.push(await fastify.inject({ url: '/', headers: { 'x-user': 'u1' } }))
  assert.deepEqual(replies.map((r) => r.statusCode), [200, 200, 200, 429])
  assert.deepEqual(replies.slice(0, 3).map((r) => r.headers['ratelimit-remaining']), ['2', '1', '0'])
  assert.equal(replies[3]?.headers['ratelimit-remaining'], '0')
  assert.equal((await fastify.inject({ url: '/', headers: { 'x-user': 'u2' } })).statusCode, 200, 'another client has its own bucket')
})

test('Redis stalled: fail-open lets requests through, fail-closed answers 503; neither waits past timeoutMs', async (t) => {
  const redis = await spawnRedis()
  t.after(() => redis.stop())
  const config = { algorithm: 'fixed-window', limit: 100, windowMs: 60_000, key: 'ip' }
  const open = await app(t, new RedisStore({ url: redis.url, timeoutMs: 250 }), config, 'fail-open')
  const closed = await app(t, new RedisStore({ url: redis.url, timeoutMs: 250 }), config, 'fail-closed')
  assert.equal((await open.inject({ url: '/' })).statusCode, 200)
  assert.equal((await closed.inject({ url: '/' })).statusCode, 200)
  redis.pause()
  for (const [fastify, status] of [[open, 200], [closed, 503]] as const) {
    let reply: Awaited<ReturnType<typeof fastify.inject>> | undefined
    const { ms, error } = await timed(async () => { reply = await fastify.inject({ url: '/' }) })
    assert.equal(error, undefined)
    assert.equal(reply?.statusCode, status)
    assert.ok(ms < 5 * 250, `answered after ${Math.round(ms)} ms`)
  }
})
