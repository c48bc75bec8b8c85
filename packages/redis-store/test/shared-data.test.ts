// RedisStore's Proxy-Wasm shared-data table (src/shared-data.ts) tested directly against a real
// Redis: two tables on one server stand for two processes. CAS is decided by Redis; a table's
// mirror follows the other's writes through the pub/sub channel; a stale mirror only makes a CAS
// fail, and the failure brings the value that won. Through guests: test/e2e/proxy-wasm-shared*.test.ts.
import assert from 'node:assert/strict'
import { test, type TestContext } from 'node:test'
import { Redis } from 'ioredis'
import type { SharedData, SharedDataEntry } from '@wafer/core'
import { startRedis } from '../../../test/support/redis.ts'
import { until } from '../../../test/support/index.ts'
import { openStore, rawClient, uniquePrefix } from './helpers.ts'

const text = (e: SharedDataEntry | undefined | 'unavailable'): string | undefined =>
  e === undefined || e === 'unavailable' ? undefined : Buffer.from(e.value).toString()

async function tables (t: TestContext, url: string, keyPrefix = uniquePrefix()): Promise<[SharedData, SharedData]> {
  const a = openStore(t, { url, keyPrefix, sharedDataTimeoutMs: 1000 }).sharedData()
  const b = openStore(t, { url, keyPrefix, sharedDataTimeoutMs: 1000 }).sharedData()
  await Promise.all([a.ready?.(), b.ready?.()])
  return [a, b]
}

test('two tables on one Redis: NOT_FOUND, CAS decided by Redis, a stale CAS refused with the winning value brought back', async (t) => {
  const redis = await startRedis()
  t.after(() => redis.stop())
  const [a, b] = await tables(t, redis.url)
  assert.equal(a.get('1:v:k'), undefined)
  assert.equal(a.set('1:v:k', Buffer.from('one'), 0), 'ok')
  const seen = b.get('1:v:k')
  assert.equal(text(seen), 'one', 'b reads what a wrote')
  const cas = (seen as SharedDataEntry).cas
  assert.equal(a.set('1:v:k', Buffer.from('two'), cas), 'ok')
  assert.equal(b.set('1:v:k', Buffer.from('stale'), cas), 'cas-mismatch', 'b\'s CAS is stale, whatever its mirror says')
  const fresh = b.get('1:v:k')
  assert.equal(text(fresh), 'two', 'the mismatch brought the value that won')
  assert.equal(b.set('1:v:k', Buffer.from('three'), (fresh as SharedDataEntry).cas), 'ok', 'so the retry succeeds')
  // a's mirror has its own write until the change b published arrives: stale only that long.
  await until('a hears of b\'s write', () => text(a.get('1:v:k')) === 'three')
  assert.equal(a.set('1:v:new', Buffer.from('x'), 12345), 'ok', 'a missing key is written whatever the CAS (as in Envoy)')
})

test('a mirrored key follows the other table\'s writes through pub/sub; a key known missing learns it was created', async (t) => {
  const redis = await startRedis()
  t.after(() => redis.stop())
  const [a, b] = await tables(t, redis.url)
  assert.equal(b.get('1:v:missing'), undefined)
  a.set('1:v:k', Buffer.from('one'), 0)
  assert.equal(text(b.get('1:v:k')), 'one')
  a.set('1:v:k', Buffer.from('two'), 0)
  a.set('1:v:missing', Buffer.from('now here'), 0)
  await until('b hears of both writes', () => text(b.get('1:v:k')) === 'two' && text(b.get('1:v:missing')) === 'now here')
  assert.ok((b as unknown as { mirrored: number }).mirrored >= 2, 'b keeps the keys it read in its mirror')
})

test('the table lives under the store\'s keyPrefix: one hash and one counter, values as <counter>:<bytes>', async (t) => {
  const redis = await startRedis()
  t.after(() => redis.stop())
  const keyPrefix = uniquePrefix()
  const [a] = await tables(t, redis.url, keyPrefix)
  a.set('2:vm:key', Buffer.from('value'), 0)
  const raw = rawClient(t, redis.url)
  assert.deepEqual(await raw.hgetall(`${keyPrefix}{proxy-shared}:data`), { '2:vm:key': '1:value' })
  assert.equal(await raw.get(`${keyPrefix}{proxy-shared}:n`), '1')
})

test('a store given an ioredis client opens the worker\'s connection with the client\'s options', async (t) => {
  const redis = await startRedis()
  t.after(() => redis.stop())
  const client = new Redis(redis.url)
  t.after(() => { client.disconnect() })
  const shared = openStore(t, { client, keyPrefix: uniquePrefix(), sharedDataTimeoutMs: 1000 }).sharedData()
  await shared.ready?.()
  assert.equal(shared.set('1:v:k', Buffer.from('via client'), 0), 'ok')
  assert.equal(text(shared.get('1:v:k')), 'via client')
})
