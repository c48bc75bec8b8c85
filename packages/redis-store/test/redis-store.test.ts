import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import { Redis } from 'ioredis'
import { spawnRedis, startRedis, type RedisServer } from '../../../test/support/redis.ts'
import { RedisStore, RedisStoreError } from '../src/index.ts'
import { openStore, rawClient, uniquePrefix } from './helpers.ts'

let redis: RedisServer
before(async () => { redis = await startRedis() })
after(async () => { await redis.stop() })

test('incr is atomic across clients: 200 concurrent increments from two stores end at exactly 200, each value seen once', async (t) => {
  const keyPrefix = uniquePrefix()
  const a = openStore(t, { url: redis.url, keyPrefix })
  const b = openStore(t, { url: redis.url, keyPrefix })
  const results = await Promise.all(Array.from({ length: 200 }, async (_, i) => await (i % 2 === 0 ? a : b).incr('rl:client', { ttlMs: 60_000 })))
  const values = results.map((r) => r.value).sort((x, y) => x - y)
  assert.deepEqual(values, Array.from({ length: 200 }, (_, i) => i + 1))
  assert.equal(Buffer.from(await a.get('rl:client') as Uint8Array).toString(), '200')
  assert.ok(results.every((r) => r.ttlMs > 0 && r.ttlMs <= 60_000), 'every increment reports the window the first one opened')
})

test('fixed window: the TTL is set when the counter is created and later increments do not extend it', async (t) => {
  const keyPrefix = uniquePrefix()
  const store = openStore(t, { url: redis.url, keyPrefix })
  const raw = rawClient(t, redis.url)
  const first = await store.incr('w', { ttlMs: 1000 })
  assert.ok(first.ttlMs > 950 && first.ttlMs <= 1000, `ttlMs at creation: ${first.ttlMs}`)
  await sleep(150)
  for (let i = 0; i < 5; i++) {
    const r = await store.incr('w', { ttlMs: 1000 })
    assert.ok(r.ttlMs <= 850, `increment ${i + 2} reported ttlMs ${r.ttlMs}: the window was extended`)
  }
  const pttl = await raw.pttl(`${keyPrefix}w`)
  assert.ok(pttl > 0 && pttl <= 850, `PTTL on the server: ${pttl}`)
  assert.equal(await raw.get(`${keyPrefix}w`), '6')
})

test('every key is stored under keyPrefix, and stores with different prefixes do not collide', async (t) => {
  const raw = rawClient(t, redis.url)
  const p1 = uniquePrefix()
  const p2 = uniquePrefix()
  const s1 = openStore(t, { url: redis.url, keyPrefix: p1 })
  const s2 = openStore(t, { url: redis.url, keyPrefix: p2 })
  await s1.incr('rate-limit:fw:1.2.3.4', { by: 3 })
  await s2.incr('rate-limit:fw:1.2.3.4')
  await s1.set('auth:token', Buffer.from('v1'))
  assert.equal(await raw.get(`${p1}rate-limit:fw:1.2.3.4`), '3')
  assert.equal(await raw.get(`${p2}rate-limit:fw:1.2.3.4`), '1')
  assert.equal(await raw.get(`${p1}auth:token`), 'v1')
  assert.equal(await raw.exists('rate-limit:fw:1.2.3.4', 'auth:token'), 0, 'nothing is written without the prefix')
  assert.equal(await s2.get('auth:token'), undefined)
  assert.equal(await s2.delete('auth:token'), false)
  assert.equal(await s1.delete('auth:token'), true)
})

test('the default keyPrefix is "wafer:"', async (t) => {
  const raw = rawClient(t, redis.url)
  const store = new RedisStore({ url: redis.url, timeoutMs: 5000 })
  t.after(() => store.close())
  const key = `${uniquePrefix()}k`
  await store.set(key, Buffer.from('x'))
  assert.equal(await raw.get(`wafer:${key}`), 'x')
  await raw.del(`wafer:${key}`)
})

test('a client given in the options is used as it is and left open by close()', async (t) => {
  const client = new Redis(redis.url, { lazyConnect: true })
  const keyPrefix = uniquePrefix()
  t.after(async () => { await client.del(`${keyPrefix}k`); client.disconnect() })
  const store = new RedisStore({ client, keyPrefix, timeoutMs: 5000 })
  assert.equal(client.status, 'wait', 'the store does not connect a lazy client by itself')
  assert.deepEqual(await store.incr('k', { by: 2 }), { value: 2, ttlMs: -1 }, 'a lazy client is connected on first use')
  await store.close()
  assert.equal(client.status, 'ready')
  assert.equal(await client.ping(), 'PONG')
  await assert.rejects(store.get('k'), (err: unknown) => err instanceof RedisStoreError && err.reason === 'closed')
})

test('close() quits a connection the store opened, and later operations fail at once', async (t) => {
  const keyPrefix = uniquePrefix()
  const store = new RedisStore({ url: redis.url, keyPrefix, timeoutMs: 5000 })
  await store.incr('k')
  const raw = rawClient(t, redis.url)
  const clients = async (): Promise<number> => (await raw.client('LIST') as string).trim().split('\n').length
  const before = await clients()
  await store.close()
  await store.close()
  assert.equal(await clients(), before - 1, 'the connection is gone')
  await assert.rejects(store.incr('k'), /closed; incr was not sent/)
  await raw.del(`${keyPrefix}k`)
})

test('incr still works after the server forgets its scripts (EVALSHA falls back to EVAL)', async (t) => {
  // SCRIPT FLUSH is server-wide: use a server of our own even when REDIS_URL is set.
  const own = await spawnRedis()
  t.after(() => own.stop())
  const store = openStore(t, { url: own.url })
  const raw = rawClient(t, own.url)
  assert.equal((await store.incr('k')).value, 1)
  await raw.script('FLUSH')
  assert.equal((await store.incr('k')).value, 2)
  assert.equal((await store.incr('k')).value, 3)
})
