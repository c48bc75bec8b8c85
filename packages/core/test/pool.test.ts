import assert from 'node:assert/strict'
import { test } from 'node:test'
import { InstancePool, defaultPoolOptions, type Lease, type PoolOptions } from '../src/runtime/pool.ts'

class Fake {
  healthy = true
  constructor (readonly id: number) {}
}

function pool (options: Partial<PoolOptions> = {}): { pool: InstancePool<Fake>, created: () => number } {
  let n = 0
  const p = new InstancePool<Fake>('f', () => new Fake(++n), { ...defaultPoolOptions, ...options })
  return { pool: p, created: () => n }
}

test('warm() creates the minimum up front', () => {
  const { pool: p, created } = pool({ min: 3, max: 5 })
  p.warm()
  assert.equal(created(), 3)
  assert.deepEqual(p.stats(), { size: 3, idle: 3, busy: 0, waiting: 0, created: 3, discarded: 0 })
})

test('acquire is synchronous while an instance is idle or the pool may grow', () => {
  const { pool: p } = pool({ min: 1, max: 2 })
  p.warm()
  const a = p.acquire()
  const b = p.acquire()
  assert.ok(!(a instanceof Promise) && !(b instanceof Promise))
  assert.notEqual(a.instance, b.instance)
  assert.equal(p.stats().busy, 2)
  p.release(a)
  assert.equal(p.acquire(), a, 'a released instance is reused')
})

test('when exhausted, acquire waits and gets the next released instance', async () => {
  const { pool: p } = pool({ min: 0, max: 1 })
  const a = p.acquire() as Lease<Fake>
  const waiting = p.acquire()
  assert.ok(waiting instanceof Promise)
  assert.equal(p.stats().waiting, 1)
  p.release(a)
  assert.equal((await waiting).instance, a.instance)
})

test('a waiter times out after acquireTimeoutMs with WAFER_ERR_POOL_EXHAUSTED', async (t) => {
  t.mock.timers.enable({ apis: ['setTimeout'] })
  const { pool: p } = pool({ min: 0, max: 1, acquireTimeoutMs: 250 })
  p.acquire()
  const waiting = p.acquire() as Promise<Lease<Fake>>
  t.mock.timers.tick(249)
  assert.equal(p.stats().waiting, 1)
  t.mock.timers.tick(1)
  await assert.rejects(waiting, (err: Error & { code: string }) => {
    assert.equal(err.code, 'WAFER_ERR_POOL_EXHAUSTED')
    assert.match(err.message, /no instance became free within 250 ms/)
    return true
  })
  assert.equal(p.stats().waiting, 0)
})

test('beyond maxWaiting, acquire fails at once', () => {
  const { pool: p } = pool({ min: 0, max: 1, maxWaiting: 1 })
  p.acquire()
  const w = p.acquire()
  assert.ok(w instanceof Promise)
  w.catch(() => {})
  assert.throws(() => p.acquire(), { code: 'WAFER_ERR_POOL_EXHAUSTED', message: /1 requests are already waiting/ })
  p.close()
})

test('an unhealthy instance is discarded on release and replaced up to the minimum', () => {
  const { pool: p, created } = pool({ min: 1, max: 2 })
  p.warm()
  const a = p.acquire() as Lease<Fake>
  a.instance.healthy = false
  p.release(a)
  assert.equal(created(), 2)
  const s = p.stats()
  assert.equal(s.discarded, 1)
  assert.equal(s.size, 1)
  const b = p.acquire() as Lease<Fake>
  assert.notEqual(b.instance, a.instance)
  assert.ok(b.instance.healthy)
})

test('an unhealthy instance released while others wait is replaced for the waiter', async () => {
  const { pool: p } = pool({ min: 0, max: 1 })
  const a = p.acquire() as Lease<Fake>
  const waiting = p.acquire() as Promise<Lease<Fake>>
  a.instance.healthy = false
  p.release(a)
  const b = await waiting
  assert.notEqual(b.instance, a.instance)
})

test('maxUses recycles an instance after that many uses', () => {
  const { pool: p, created } = pool({ min: 1, max: 1, maxUses: 3 })
  p.warm()
  const seen = new Set<Fake>()
  for (let i = 0; i < 7; i++) {
    const l = p.acquire() as Lease<Fake>
    seen.add(l.instance)
    p.release(l)
  }
  assert.equal(seen.size, 3, 'uses 1-3, 4-6 and 7 run on three instances')
  assert.equal(created(), 3)
})

test('close() rejects waiters and refuses new acquisitions', async () => {
  const { pool: p } = pool({ min: 0, max: 1 })
  const a = p.acquire() as Lease<Fake>
  const waiting = p.acquire() as Promise<Lease<Fake>>
  p.close()
  await assert.rejects(waiting, { code: 'WAFER_ERR_FILTER_CLOSED' })
  assert.throws(() => p.acquire(), { code: 'WAFER_ERR_FILTER_CLOSED' })
  p.release(a)
  assert.equal(p.stats().size, 0, 'a busy instance released after close is dropped')
})

test('a failing factory surfaces its error to acquire', () => {
  const p = new InstancePool<Fake>('f', () => { throw new Error('boom') }, { ...defaultPoolOptions, min: 0 })
  assert.throws(() => p.acquire(), /boom/)
  assert.equal(p.stats().size, 0)
})
