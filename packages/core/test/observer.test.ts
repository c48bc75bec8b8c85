import assert from 'node:assert/strict'
import { test } from 'node:test'
import { createWafer, Exchange, type FilterCallEvent } from '../src/index.ts'
import { captureLogger, fixture, silent } from '../../../test/support/index.ts'
import { delayedStore } from '../../../test/support/stores.ts'

const exchange = (log = silent) => new Exchange({ id: 'r', method: 'GET', url: '/', headers: {}, remoteAddress: '127.0.0.1', log })

test('the observer sees each filter call with its phase, outcome and duration', async () => {
  const events: FilterCallEvent[] = []
  const w = await createWafer({
    logger: silent,
    observer: { onFilterCall: (e) => events.push(e) },
    filters: { stamp: { module: fixture('stamp') }, deny: { module: fixture('deny') }, trap: { module: fixture('trap') } }
  })
  const chain = w.compose(['stamp', 'deny'])
  const ex = exchange()
  chain.runRequest(ex)
  ex.response = { status: 403, headers: {}, body: undefined, changed: false, bodyChanged: false }
  await chain.runResponse(ex)
  w.compose(['trap']).runRequest(exchange())
  assert.deepEqual(events.map(({ durationMs, ...rest }) => rest), [
    { filter: 'stamp', phase: 'request', outcome: 'continue' },
    { filter: 'deny', phase: 'request', outcome: 'respond' },
    { filter: 'stamp', phase: 'response', outcome: 'continue' },
    { filter: 'trap', phase: 'request', outcome: 'error', errorCode: 'WAFER_ERR_FILTER_TRAP' }
  ])
  assert.ok(events.every((e) => e.durationMs >= 0 && e.durationMs < 10_000))
  await w.close()
})

test('an asynchronous call is reported when it completes, with the wait included', async () => {
  const { store } = delayedStore(20)
  const events: FilterCallEvent[] = []
  const w = await createWafer({ logger: silent, store, observer: { onFilterCall: (e) => events.push(e) }, filters: { kv: { module: fixture('kv-incr') } } })
  const pending = w.compose(['kv']).runRequest(exchange())
  assert.equal(events.length, 0, 'not reported while paused')
  await pending
  assert.equal(events.length, 1)
  assert.equal(events[0]?.outcome, 'continue')
  assert.ok((events[0]?.durationMs ?? 0) >= 15, `duration ${events[0]?.durationMs} includes the store wait`)
  await w.close()
})

test('an observer that throws is logged and does not break the request', async () => {
  const { logger, lines } = captureLogger()
  const w = await createWafer({ logger, observer: { onFilterCall: () => { throw new Error('observer bug') } }, filters: { stamp: { module: fixture('stamp') } } })
  const ex = exchange(logger)
  const d = w.compose(['stamp']).runRequest(ex)
  assert.ok(!(d instanceof Promise) && !d.respond)
  assert.equal(ex.headers['x-stamp'], 'a')
  assert.ok(lines.some((l) => l.level === 50 && /WaferObserver threw/.test(l.msg)))
  await w.close()
})
