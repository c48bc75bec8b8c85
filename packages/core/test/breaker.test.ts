import assert from 'node:assert/strict'
import { test } from 'node:test'
import { Breaker, createWafer, Exchange } from '../src/index.ts'
import { fixture, silent } from '../../../test/support/index.ts'

function clock () {
  let t = 1000
  return { now: () => t, advance: (ms: number) => { t += ms } }
}

test('opens after N consecutive failures, lets one trial through after the cool-down, closes on success', () => {
  const c = clock()
  const b = new Breaker({ failures: 3, cooldownMs: 500 }, c.now)
  b.failure(); b.failure()
  b.success()
  b.failure(); b.failure()
  assert.equal(b.status().state, 'closed', 'a success in between resets the count')
  b.failure()
  assert.equal(b.status().state, 'open')
  assert.equal(b.allow(), false)
  assert.equal(b.retryInMs(), 500)
  c.advance(499)
  assert.equal(b.allow(), false)
  c.advance(1)
  assert.equal(b.allow(), true, 'the trial call')
  assert.equal(b.status().state, 'half-open')
  assert.equal(b.allow(), false, 'only one trial at a time')
  b.success()
  assert.deepEqual([b.status().state, b.allow()], ['closed', true])
})

test('a failed trial opens it again; failures: 0 turns it off', () => {
  const c = clock()
  const b = new Breaker({ failures: 1, cooldownMs: 100 }, c.now)
  b.failure()
  c.advance(100)
  assert.equal(b.allow(), true)
  b.failure()
  assert.deepEqual([b.status().state, b.allow()], ['open', false])
  const off = new Breaker({ failures: 0, cooldownMs: 100 }, c.now)
  for (let i = 0; i < 100; i++) off.failure()
  assert.equal(off.allow(), true)
})

test('through the runtime: an open breaker answers by the failure policy without calling the filter', async () => {
  const w = await createWafer({
    logger: silent,
    filters: {
      closed: { module: fixture('trap'), breaker: { failures: 3, cooldownMs: 60_000 } },
      open: { module: fixture('trap'), failurePolicy: 'fail-open', breaker: { failures: 2, cooldownMs: 60_000 } },
      stamp: { module: fixture('stamp') }
    }
  })
  const run = (names: string[]) => w.compose(names).runRequest(new Exchange({ id: 'r', method: 'GET', url: '/', headers: {}, remoteAddress: '127.0.0.1', log: silent }))
  for (let i = 0; i < 3; i++) assert.equal(JSON.parse(((await run(['closed'])) as { response: { body: string } }).response.body).reason, 'trap')
  const created = w.filter('closed')?.status().pool.created
  const refused = await run(['closed'])
  assert.ok(refused.respond)
  assert.equal(refused.response?.status, 503)
  assert.deepEqual(JSON.parse(refused.response?.body as string).reason, 'circuit-open')
  const status = w.filter('closed')?.status()
  assert.equal(status?.pool.created, created, 'the guest was not called')
  assert.deepEqual(status?.failuresByReason, { trap: 3, 'circuit-open': 1 })
  assert.equal(status?.breaker.state, 'open')
  assert.equal(status?.failures, 3, 'refusals are not failures of the filter')

  for (let i = 0; i < 3; i++) assert.equal((await run(['open', 'stamp'])).respond, false, 'fail-open: skipped, open breaker or not')
  assert.equal(w.filter('open')?.status().breaker.state, 'open')
  await w.close()
})

test('bad breaker options are refused, naming the field', async () => {
  await assert.rejects(createWafer({ logger: silent, filters: { f: { module: fixture('noop'), breaker: { failures: -1 } } } }), { code: 'WAFER_ERR_OPTIONS_INVALID', message: /\/filters\/f\/breaker\/failures: must be an integer >= 0, got -1/ })
  await assert.rejects(createWafer({ logger: silent, filters: { f: { module: fixture('noop'), breaker: { cooldown: 5 } as never } } }), { code: 'WAFER_ERR_OPTIONS_INVALID', message: /\/filters\/f\/breaker\/cooldown: unknown key \(allowed: failures, cooldownMs\)/ })
})
