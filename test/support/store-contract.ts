import assert from 'node:assert/strict'
import { test, type TestContext } from 'node:test'
import type { KvStore } from '@wafer/core'

/**
 * The behaviour every KvStore shares, as filters see it through the kv_* imports
 * (docs/abi.md section 3). Each store's test file runs it:
 *
 *   storeContract('MemoryStore', { ttlMs: 1000, create: () => ... })
 *
 * Stores with a fake clock pass exact numbers; a real server passes real time, so TTLs are
 * checked as ranges that hold however slow the machine is.
 */
export interface ContractStore {
  /** A store with no keys the test could collide with. */
  store: KvStore
  /** Lets at least `ms` pass for the store's TTLs: advances a fake clock, or sleeps. */
  elapse (ms: number): void | Promise<void>
}

export interface ContractOptions {
  /** A fresh store for one test; register its cleanup with `t.after`. */
  create (t: TestContext): ContractStore | Promise<ContractStore>
  /** The TTL the tests use: short for a real server, whose time really passes. */
  ttlMs: number
  /** How much less than `ttlMs` a TTL read right after creation may be (0 with a fake clock). */
  slackMs: number
}

const text = (v: Uint8Array | undefined): string | undefined => v === undefined ? undefined : Buffer.from(v).toString('utf8')

export function storeContract (name: string, options: ContractOptions): void {
  const { ttlMs: T, slackMs } = options

  test(`${name} contract: get returns exactly the bytes set, and undefined for a missing key`, async (t) => {
    const { store } = await options.create(t)
    assert.equal(await store.get('missing'), undefined)
    const bytes = Uint8Array.from([0, 1, 0xfe, 0xff, 0x0d, 0x0a])
    await store.set('bin', bytes)
    const got = await store.get('bin')
    assert.ok(got instanceof Uint8Array)
    assert.deepEqual([...got], [...bytes])
    await store.set('bin', Buffer.from('replaced'))
    assert.equal(text(await store.get('bin')), 'replaced')
    await store.set('empty', new Uint8Array(0))
    assert.equal(text(await store.get('empty')), '', 'an empty value is a value, not a missing key')
  })

  test(`${name} contract: set copies the value, so later changes to the caller's buffer do not leak in`, async (t) => {
    const { store } = await options.create(t)
    const buf = Buffer.from('abc')
    const done = store.set('k', buf)
    buf[0] = 0x7a
    await done
    assert.equal(text(await store.get('k')), 'abc')
  })

  test(`${name} contract: set with a TTL expires; without one, or with 0, it does not; a plain set clears a TTL`, async (t) => {
    const { store, elapse } = await options.create(t)
    await store.set('ttl', Buffer.from('x'), { ttlMs: T })
    await store.set('zero', Buffer.from('x'), { ttlMs: 0 })
    await store.set('none', Buffer.from('x'))
    await store.set('cleared', Buffer.from('x'), { ttlMs: T })
    await store.set('cleared', Buffer.from('y'))
    assert.equal(text(await store.get('ttl')), 'x')
    await elapse(T + 1)
    assert.equal(await store.get('ttl'), undefined)
    assert.equal(text(await store.get('zero')), 'x')
    assert.equal(text(await store.get('none')), 'x')
    assert.equal(text(await store.get('cleared')), 'y')
  })

  test(`${name} contract: delete reports whether the key existed`, async (t) => {
    const { store } = await options.create(t)
    await store.set('b', Buffer.from('x'))
    await store.incr('c')
    assert.equal(await store.delete('b'), true)
    assert.equal(await store.delete('b'), false)
    assert.equal(await store.get('b'), undefined)
    assert.equal(await store.delete('c'), true, 'counters are keys like any other')
    assert.equal(await store.delete('never-set'), false)
    assert.deepEqual(await store.incr('c'), { value: 1, ttlMs: -1 }, 'a deleted counter starts over')
  })

  test(`${name} contract: incr creates the counter at \`by\`, adds, and reports ttlMs -1 without a TTL`, async (t) => {
    const { store, elapse } = await options.create(t)
    assert.deepEqual(await store.incr('n'), { value: 1, ttlMs: -1 }, '`by` defaults to 1')
    assert.deepEqual(await store.incr('n', { by: 41 }), { value: 42, ttlMs: -1 })
    assert.deepEqual(await store.incr('n', { by: -50 }), { value: -8, ttlMs: -1 })
    assert.deepEqual(await store.incr('n', { by: 0 }), { value: -8, ttlMs: -1 })
    assert.deepEqual(await store.incr('neg', { by: -3 }), { value: -3, ttlMs: -1 })
    await elapse(T + 1)
    assert.deepEqual(await store.incr('n'), { value: -7, ttlMs: -1 }, 'a counter without a TTL never expires')
  })

  test(`${name} contract: incr sets the TTL when it creates the counter and never extends it (fixed window)`, async (t) => {
    const { store, elapse } = await options.create(t)
    const first = await store.incr('w', { ttlMs: T })
    assert.equal(first.value, 1)
    assert.ok(first.ttlMs <= T && first.ttlMs >= T - slackMs, `ttlMs right after creation: ${first.ttlMs}, expected about ${T}`)
    const third = Math.floor(T / 3)
    await elapse(third)
    const second = await store.incr('w', { by: 2, ttlMs: T })
    assert.equal(second.value, 3)
    assert.ok(second.ttlMs > 0 && second.ttlMs <= T - third, `ttlMs after ${third} ms: ${second.ttlMs}, expected at most ${T - third}`)
    // Back to 0 and up again: still the same window (the counter exists, so it is not created).
    assert.equal((await store.incr('w', { by: -3, ttlMs: T })).value, 0)
    const again = await store.incr('w', { ttlMs: T })
    assert.equal(again.value, 1)
    assert.ok(again.ttlMs > 0 && again.ttlMs <= T - third, `the window was restarted: ttlMs ${again.ttlMs}`)
    await elapse(T - third + 1)
    const next = await store.incr('w', { ttlMs: T })
    assert.equal(next.value, 1, 'a new window once the TTL has passed')
    assert.ok(next.ttlMs <= T && next.ttlMs >= T - slackMs, `the new window has the full TTL: ${next.ttlMs}`)
  })

  test(`${name} contract: incr on a counter created without a TTL does not add one`, async (t) => {
    const { store } = await options.create(t)
    await store.incr('k')
    assert.deepEqual(await store.incr('k', { ttlMs: T }), { value: 2, ttlMs: -1 })
  })

  test(`${name} contract: a counter reads back as decimal text, and an integer value can be incremented`, async (t) => {
    const { store } = await options.create(t)
    await store.incr('n', { by: 41 })
    assert.equal(text(await store.get('n')), '41')
    await store.set('m', Buffer.from('10'))
    assert.deepEqual(await store.incr('m', { by: 5 }), { value: 15, ttlMs: -1 })
    assert.equal(text(await store.get('m')), '15')
    await store.set('timed', Buffer.from('7'), { ttlMs: T })
    const timed = await store.incr('timed')
    assert.equal(timed.value, 8)
    assert.ok(timed.ttlMs > 0 && timed.ttlMs <= T, `incrementing a value keeps its TTL: ${timed.ttlMs}`)
    await store.set('text', Buffer.from('ten'))
    await assert.rejects(async () => await store.incr('text'), /not an integer/)
    assert.equal(text(await store.get('text')), 'ten', 'a failed incr changes nothing')
  })

  test(`${name} contract: incr rejects a \`by\` that is not a safe integer`, async (t) => {
    const { store } = await options.create(t)
    for (const by of [1.5, Number.NaN, Infinity, 2 ** 53]) {
      await assert.rejects(async () => await store.incr('k', { by }), TypeError, `by ${by}`)
    }
    assert.equal(await store.get('k'), undefined)
  })
}
