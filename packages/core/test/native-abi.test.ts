import assert from 'node:assert/strict'
import { test } from 'node:test'
import { CONTINUE, createWafer, Exchange, MemoryStore, type KvStore, type Wafer } from '../src/index.ts'
import { captureLogger, fixture, silent } from '../../../test/support/index.ts'
import { delayedStore } from '../../../test/support/stores.ts'

function exchange (log = silent): Exchange {
  return new Exchange({ id: 'req-1', method: 'GET', url: '/items?page=2', headers: { host: 'example.com', 'x-api-key': 'k1' }, remoteAddress: '127.0.0.1', log })
}

async function one (name: string, options: { store?: KvStore, logger?: typeof silent } = {}): Promise<Wafer> {
  return createWafer({ logger: options.logger ?? silent, store: options.store, filters: { f: { module: fixture(name) } } })
}

test('a filter that changes nothing returns CONTINUE and leaves the request as it was', async () => {
  const w = await one('noop')
  const ex = exchange()
  assert.equal(w.compose(['f']).runRequest(ex), CONTINUE)
  assert.deepEqual([ex.method, ex.path, ex.query, ex.headers], ['GET', '/items', 'page=2', { host: 'example.com', 'x-api-key': 'k1' }])
  assert.equal(ex.reached, 1)
  await w.close()
})

test('a header set in the request phase is on the request the next filter and the route see', async () => {
  const w = await one('stamp')
  const ex = exchange()
  assert.equal(w.compose(['f']).runRequest(ex), CONTINUE)
  assert.equal(ex.headers['x-stamp'], 'a')
  assert.equal(ex.headers['x-api-key'], 'k1', 'the other headers are kept')
  await w.close()
})

test('a path and query set in the request phase replace the request target', async () => {
  const w = await one('rewrite-path')
  const ex = exchange()
  assert.equal(w.compose(['f']).runRequest(ex), CONTINUE)
  assert.deepEqual([ex.path, ex.query], ['/rewritten', 'q=1'])
  await w.close()
})

test('respond short-circuits the chain and the filters after it never run', async () => {
  const w = await createWafer({ logger: silent, filters: { deny: { module: fixture('deny') }, stamp: { module: fixture('stamp') } } })
  const ex = exchange()
  const d = w.compose(['deny', 'stamp']).runRequest(ex)
  assert.ok(!(d instanceof Promise) && d.respond)
  assert.deepEqual(d.response, { status: 403, headers: { 'x-denied-by': 'deny', 'content-type': 'text/plain; charset=utf-8' }, body: 'denied' })
  assert.equal(ex.headers['x-stamp'], undefined)
  assert.equal(ex.reached, 0)
  assert.equal(w.filter('stamp')?.status().calls, 0)
  await w.close()
})

test('the host re-reads guest memory after the guest grows it', async () => {
  const w = await one('grow')
  const ex = exchange()
  w.compose(['f']).runRequest(ex)
  assert.equal(ex.headers['x-grown'], 'yes')
  await w.close()
})

const faults: Array<[string, string, RegExp]> = [
  ['trap', 'WAFER_ERR_FILTER_TRAP', /trapped in wafer_on_request: unreachable/],
  ['bad-action', 'WAFER_ERR_ABI_BAD_ACTION', /returned action 7 from wafer_on_request/],
  ['bad-pointer', 'WAFER_ERR_ABI_BAD_POINTER', /in header_set: \[1000000, 1000016\) is outside its 65536-byte memory/],
  ['bad-header', 'WAFER_ERR_ABI_BAD_OUTPUT', /the value of header "x-a" contains the control character U\+000D/],
  ['respond-missing', 'WAFER_ERR_ABI_BAD_OUTPUT', /in wafer_on_request: it returned respond \(1\) without calling respond\(\)/],
  ['bad-field-id', 'WAFER_ERR_ABI_BAD_OUTPUT', /set: field 99 cannot be set/],
  ['bad-map-id', 'WAFER_ERR_ABI_BAD_OUTPUT', /unknown map 9/],
  ['bad-status', 'WAFER_ERR_ABI_BAD_OUTPUT', /respond: a status must be 200\.\.599, got 99/],
  ['pause-nothing', 'WAFER_ERR_ABI_PAUSE_WITHOUT_PENDING', /returned pause from wafer_on_request with no asynchronous operation pending/]
]

for (const [name, code, message] of faults) {
  test(`${name}: the request gets a fail-closed 503 naming the filter and reason, a log line, and a fresh instance`, async () => {
    const { logger, lines } = captureLogger()
    const w = await one(name, { logger })
    const chain = w.compose(['f'])
    const ex = exchange(logger)
    const d = chain.runRequest(ex)
    assert.ok(!(d instanceof Promise) && d.respond)
    assert.equal(d.response?.status, 503)
    assert.deepEqual(JSON.parse(d.response?.body as string), {
      statusCode: 503, code, error: 'Service Unavailable', message: 'Filter "f" failed', filter: 'f', reason: code === 'WAFER_ERR_FILTER_TRAP' ? 'trap' : 'abi'
    })
    const line = lines.find((l) => l.level === 50)
    assert.ok(line, 'an error line is logged')
    assert.equal(line.filter, 'f')
    assert.match((line.err as { message: string }).message, message)
    const status = w.filter('f')?.status()
    assert.equal(status?.failures, 1)
    assert.equal(status?.lastError?.code, code)
    assert.equal(status?.pool.discarded, 1, 'the faulty instance is discarded')
    assert.equal(status?.pool.size, 1, 'and replaced')
    await w.close()
  })
}

test('fail-open skips a failing filter with a warning and the chain goes on', async () => {
  const { logger, lines } = captureLogger()
  const w = await createWafer({ logger, filters: { t: { module: fixture('trap'), failurePolicy: 'fail-open' }, stamp: { module: fixture('stamp') } } })
  const ex = exchange(logger)
  assert.equal(w.compose(['t', 'stamp']).runRequest(ex), CONTINUE)
  assert.equal(ex.headers['x-stamp'], 'a')
  assert.ok(lines.some((l) => l.level === 40 && l.filter === 't' && /fail-open/.test(l.msg)))
  await w.close()
})

test('kv results from a synchronous store are delivered in the same tick', async () => {
  const store = new MemoryStore()
  const w = await one('kv-incr', { store })
  const ex = exchange()
  const d = w.compose(['f']).runRequest(ex)
  assert.equal(d, CONTINUE, 'no promise: the in-memory store answered at once')
  assert.equal(ex.headers['x-kv'], 'ok')
  assert.equal(Buffer.from(store.get('f:hits') as Uint8Array).toString(), '1', 'keys are namespaced by filter name')
  await w.close()
})

test('kv results from an asynchronous store resume the paused filter later', async () => {
  const { store } = delayedStore()
  const w = await one('kv-incr', { store })
  const ex = exchange()
  const pending = w.compose(['f']).runRequest(ex)
  assert.ok(pending instanceof Promise)
  assert.equal(w.filter('f')?.status().pool.busy, 1, 'a paused request holds its instance')
  assert.equal(await pending, CONTINUE)
  assert.equal(ex.headers['x-kv'], 'ok')
  assert.equal(w.filter('f')?.status().pool.busy, 0)
  await w.close()
})

test('a failing store fails the filter with WAFER_ERR_STATE and keeps the instance', async () => {
  const { logger, lines } = captureLogger()
  const failing: KvStore = {
    get: () => undefined,
    set: () => {},
    incr: () => Promise.reject(new Error('connection refused')),
    delete: () => false
  }
  const w = await one('kv-incr', { store: failing, logger })
  const d = await w.compose(['f']).runRequest(exchange(logger))
  assert.ok(d.respond)
  assert.equal(JSON.parse(d.response?.body as string).code, 'WAFER_ERR_STATE')
  assert.match((lines.find((l) => l.level === 50)?.err as { message: string }).message, /kv_incr failed for filter "f": connection refused/)
  assert.equal(w.filter('f')?.status().pool.discarded, 0)
  await w.close()
})

test('response phase: runs in reverse over the filters the request passed, and patches the reply', async () => {
  const w = await createWafer({ logger: silent, filters: { stamp: { module: fixture('stamp') }, noop: { module: fixture('noop') } } })
  const chain = w.compose(['stamp', 'noop'])
  const ex = exchange()
  chain.runRequest(ex)
  ex.response = { status: 200, headers: { 'content-type': 'text/plain' }, body: undefined, changed: false, bodyChanged: false }
  await chain.runResponse(ex)
  assert.equal(ex.response.headers['x-stamped'], 'a')
  assert.equal(ex.response.changed, true)
  await w.close()
})

test('a closed filter refuses requests with WAFER_ERR_FILTER_CLOSED', async () => {
  const w = await one('noop')
  const chain = w.compose(['f'])
  await w.close()
  const d = chain.runRequest(exchange())
  assert.ok(!(d instanceof Promise) && d.respond)
  assert.equal(d.response?.status, 503)
  assert.equal(JSON.parse(d.response?.body as string).code, 'WAFER_ERR_FILTER_CLOSED')
})
