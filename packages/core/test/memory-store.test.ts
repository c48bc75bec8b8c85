import assert from 'node:assert/strict'
import { test } from 'node:test'
import { MemoryStore } from '../src/index.ts'
import { storeContract } from '../../../test/support/store-contract.ts'

function clock (): { now: () => number, advance: (ms: number) => void } {
  let t = 1_000_000
  return { now: () => t, advance: (ms) => { t += ms } }
}

test('incr creates at `by`, adds atomically, and keeps the TTL from creation (fixed window)', () => {
  const c = clock()
  const s = new MemoryStore({ now: c.now })
  assert.deepEqual(s.incr('k', { by: 1, ttlMs: 1000 }), { value: 1, ttlMs: 1000 })
  c.advance(400)
  assert.deepEqual(s.incr('k', { by: 2, ttlMs: 1000 }), { value: 3, ttlMs: 600 })
  c.advance(600)
  assert.deepEqual(s.incr('k', { ttlMs: 1000 }), { value: 4, ttlMs: 0 }, 'live up to and including its TTL, as in Redis')
  c.advance(1)
  assert.deepEqual(s.incr('k', { ttlMs: 1000 }), { value: 1, ttlMs: 1000 }, 'a new window once the TTL has passed')
})

test('incr without a TTL never expires and reports ttlMs -1', () => {
  const c = clock()
  const s = new MemoryStore({ now: c.now })
  s.incr('k')
  c.advance(10 ** 9)
  assert.deepEqual(s.incr('k', { by: -5 }), { value: -4, ttlMs: -1 })
})

test('get/set/delete with TTL', () => {
  const c = clock()
  const s = new MemoryStore({ now: c.now })
  s.set('a', Buffer.from('hello'), { ttlMs: 50 })
  assert.equal(Buffer.from(s.get('a') as Uint8Array).toString(), 'hello')
  c.advance(50)
  assert.notEqual(s.get('a'), undefined)
  c.advance(1)
  assert.equal(s.get('a'), undefined)
  s.set('b', Buffer.from('x'))
  assert.equal(s.delete('b'), true)
  assert.equal(s.delete('b'), false)
})

test('set copies the value, so later changes to the caller\'s buffer do not leak in', () => {
  const s = new MemoryStore()
  const buf = Buffer.from('abc')
  s.set('k', buf)
  buf[0] = 0x7a
  assert.equal(Buffer.from(s.get('k') as Uint8Array).toString(), 'abc')
})

test('a counter reads back as its decimal text, and an integer value can be incremented (as Redis does)', () => {
  const s = new MemoryStore()
  s.incr('n', { by: 41 })
  assert.equal(Buffer.from(s.get('n') as Uint8Array).toString(), '41')
  s.set('m', Buffer.from('10'))
  assert.equal(s.incr('m', { by: 5 }).value, 15)
  s.set('text', Buffer.from('ten'))
  assert.throws(() => s.incr('text'), /not an integer/)
})

test('maxKeys bounds memory: the least recently used key is evicted', () => {
  const s = new MemoryStore({ maxKeys: 2 })
  s.incr('a')
  s.incr('b')
  s.get('a')
  s.incr('c')
  assert.equal(s.size, 2)
  assert.equal(s.get('b'), undefined)
  assert.notEqual(s.get('a'), undefined)
})

test('invalid maxKeys is rejected', () => {
  assert.throws(() => new MemoryStore({ maxKeys: 0 }), { code: 'WAFER_ERR_OPTIONS_INVALID' })
})

// The behaviour every store shares (RedisStore runs it too), on a fake clock: exact TTLs, no sleeping.
storeContract('MemoryStore', {
  ttlMs: 1000,
  slackMs: 0,
  create: () => {
    const c = clock()
    return { store: new MemoryStore({ now: c.now }), elapse: c.advance }
  }
})
