import assert from 'node:assert/strict'
import { test } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import { captureLogger, type LogLine } from '../../../test/support/index.ts'
import { freePort, spawnRedis } from '../../../test/support/redis.ts'
import { RedisStore, RedisStoreError, type RedisStoreFailure } from '../src/index.ts'
import { eventually, openStore, timed } from './helpers.ts'

// These tests stop and freeze the server, so each spawns its own, also when REDIS_URL is set.
// Durations are only checked against a generous bound (5x timeoutMs): the point is that
// nothing hangs, not how precise the timer is.
const TIMEOUT_MS = 250
const BOUND_MS = 5 * TIMEOUT_MS

function failure (reason?: RedisStoreFailure) {
  return (err: unknown): boolean => err instanceof RedisStoreError && (reason === undefined || err.reason === reason)
}

const messages = (lines: LogLine[], level: number, re: RegExp): string[] => lines.filter((l) => l.level === level && re.test(l.msg)).map((l) => l.msg)
const WARN = 40
const INFO = 30

test('a stalled Redis (SIGSTOP): every operation rejects within timeoutMs; after SIGCONT they work again', async (t) => {
  const redis = await spawnRedis()
  const { logger, lines } = captureLogger()
  const failed: string[] = []
  const store = openStore(t, { url: redis.url, timeoutMs: TIMEOUT_MS, logger, onError: (op) => { failed.push(op) } })
  t.after(() => redis.stop())
  assert.equal((await store.incr('counter')).value, 1)

  redis.pause()
  const ops: Array<[string, () => Promise<unknown>]> = [
    ['get', async () => await store.get('counter')],
    ['set', async () => { await store.set('value', Buffer.from('written while stalled')) }],
    ['incr', async () => await store.incr('counter')],
    ['delete', async () => await store.delete('nothing')]
  ]
  const outcomes = await Promise.all(ops.map(async ([op, run]) => ({ op, ...await timed(run) })))
  for (const { op, ms, error } of outcomes) {
    assert.ok(failure('timeout')(error), `${op} rejected with a timeout, got ${String(error)}`)
    assert.match((error as Error).message, new RegExp(`Redis did not answer ${op} within ${TIMEOUT_MS} ms`))
    assert.ok(ms < BOUND_MS, `${op} took ${Math.round(ms)} ms`)
  }
  assert.deepEqual(failed.sort(), ['delete', 'get', 'incr', 'set'], 'onError hears of every failure')
  assert.equal(messages(lines, WARN, /did not answer/).length, 1, 'repeated timeouts are logged once, not once per request')

  redis.resume()
  // What reached Redis before it froze runs when it resumes: a timed-out operation may still count.
  assert.deepEqual(await store.incr('counter'), { value: 3, ttlMs: -1 })
  assert.equal(Buffer.from(await store.get('value') as Uint8Array).toString(), 'written while stalled')
})

test('maxPending: once that many operations wait on a stalled Redis, the next fails at once instead of queueing', async (t) => {
  const redis = await spawnRedis()
  const store = openStore(t, { url: redis.url, timeoutMs: 2000, maxPending: 2 })
  t.after(() => redis.stop())
  await store.incr('k')
  redis.pause()
  const waiting = [store.incr('k'), store.incr('k')]
  const { ms, error } = await timed(async () => await store.incr('k'))
  assert.ok(failure('overloaded')(error), String(error))
  assert.match((error as Error).message, /2 Redis operations are waiting for an answer \(maxPending\); incr was not sent/)
  assert.ok(ms < 1000, `it did not wait for the 2000 ms timeout: ${Math.round(ms)} ms`)
  redis.resume()
  assert.deepEqual((await Promise.all(waiting)).map((r) => r.value), [2, 3])
  assert.equal((await store.incr('k')).value, 4, 'with the answers in, operations are sent again')
})

test('Redis stopped: operations fail fast; restarted on the same port: the store reconnects by itself, and counting starts over', async (t) => {
  const redis = await spawnRedis()
  const { logger, lines } = captureLogger()
  const store = openStore(t, { url: redis.url, timeoutMs: TIMEOUT_MS, logger })
  t.after(() => redis.stop())
  for (let i = 1; i <= 3; i++) assert.equal((await store.incr('k', { ttlMs: 60_000 })).value, i)

  await redis.stop()
  const start = performance.now()
  while (performance.now() - start < 400) {
    // Several reconnection attempts happen meanwhile (50, 100, 200 ms apart).
    const { ms, error } = await timed(async () => await store.incr('k'))
    assert.ok(failure()(error), `rejected with a RedisStoreError, got ${String(error)}`)
    assert.ok(ms < BOUND_MS, `took ${Math.round(ms)} ms`)
    await sleep(20)
  }
  const { error } = await timed(async () => await store.get('k'))
  assert.ok(failure('unavailable')(error), String(error))
  assert.match((error as Error).message, /Redis is not connected \(\w+\); get was not sent/)

  await redis.restart()
  const first = await eventually(async () => await store.incr('k', { ttlMs: 60_000 }), 5000)
  // The server restarted without persistence, so the counter is gone: this is a new window at 1.
  assert.equal(first.value, 1)
  assert.equal((await store.incr('k')).value, 2)

  assert.equal(messages(lines, WARN, /Redis connection lost/).length, 1)
  assert.equal(messages(lines, WARN, /Redis connection error: .*ECONNREFUSED/).length, 1, 'one refused connection logged, not one per attempt')
  assert.equal(messages(lines, INFO, /Redis connection restored after \d+ ms/).length, 1)
})

test('Redis down from the start: operations fail fast, and the store connects once Redis is up', async (t) => {
  const port = await freePort()
  const { logger, lines } = captureLogger()
  const store = new RedisStore({ url: `redis://127.0.0.1:${port}`, timeoutMs: TIMEOUT_MS, logger })
  t.after(() => store.close())
  for (let i = 0; i < 3; i++) {
    const { ms, error } = await timed(async () => await store.incr('k'))
    assert.ok(failure()(error), String(error))
    assert.ok(ms < BOUND_MS, `took ${Math.round(ms)} ms`)
  }
  assert.equal(messages(lines, WARN, /cannot connect to Redis; retrying/).length, 1)
  const redis = await spawnRedis({ port })
  t.after(() => redis.stop())
  assert.equal((await eventually(async () => await store.incr('k'), 5000)).value, 1)
  assert.equal(messages(lines, INFO, /connected to Redis after \d+ ms of retrying/).length, 1)
})

test('connection logs name the server without the password of its URL', async (t) => {
  const port = await freePort()
  const { logger, lines } = captureLogger()
  const store = new RedisStore({ url: `redis://app:s3cret@127.0.0.1:${port}/2`, timeoutMs: TIMEOUT_MS, logger })
  t.after(() => store.close())
  await assert.rejects(store.get('k'), failure('unavailable'))
  const warning = lines.find((l) => l.level === WARN && /cannot connect/.test(l.msg))
  assert.equal(warning?.redis, `redis://127.0.0.1:${port}/2`)
  assert.equal(warning?.store, 'redis')
  assert.ok(!lines.some((l) => JSON.stringify(l).includes('s3cret')))
})

test('operations issued while the first connection is being made wait for it instead of failing', async (t) => {
  const redis = await spawnRedis()
  const store = new RedisStore({ url: redis.url, timeoutMs: 2000 })
  t.after(async () => { await store.close(); await redis.stop() })
  const results = await Promise.all([store.incr('k'), store.incr('k'), store.get('missing')])
  assert.deepEqual(results, [{ value: 1, ttlMs: -1 }, { value: 2, ttlMs: -1 }, undefined])
})
