import assert from 'node:assert/strict'
import { test } from 'node:test'
import { pino } from 'pino'
import { createWafer, Exchange, MemoryStore, resolveConfig, type KvStore, type ReloadReport, type WaferDefinition } from '../src/index.ts'
import { captureLogger, fixture, silent, type LogLine } from '../../../test/support/index.ts'

const exchange = () => new Exchange({ id: 'r', method: 'GET', url: '/', headers: {}, remoteAddress: '127.0.0.1', log: silent })
const def = (variant: string, extra: WaferDefinition['filters'] = {}): WaferDefinition => ({
  filters: { v: { module: fixture(`variant-${variant}`) }, noop: { module: fixture('noop') }, ...extra },
  chains: { main: ['noop', 'v'] }
})

test('an applied reload serves new requests with the new version; unchanged filters are reused', async () => {
  const w = await createWafer({ logger: silent, ...def('a') })
  const noop = w.filter('noop')
  const report = await w.reload(def('b'))
  assert.equal(report.outcome, 'applied')
  assert.deepEqual([report.from, report.to], [1, 2])
  assert.deepEqual(report.loaded, ['v'])
  assert.notEqual(report.hashes?.before.v, report.hashes?.after.v)
  assert.equal(w.filter('noop'), noop, 'same module and settings: the very same filter, warm pool and all')
  const ex = exchange()
  w.chain('main').runRequest(ex)
  assert.equal(ex.headers['x-variant'], 'b')
  assert.equal(w.status().generation, 2)
  assert.equal(w.status().lastReload?.outcome, 'applied')
  await w.close()
})

test('reloading what is running changes nothing', async () => {
  const w = await createWafer({ logger: silent, ...def('a') })
  const before = w.generation
  const report = await w.reload(def('a'))
  assert.equal(report.outcome, 'unchanged')
  assert.equal(w.generation, before)
  await w.close()
})

test('a request that entered before a reload finishes on its version; the old filters close when it leaves', async () => {
  const w = await createWafer({ logger: silent, ...def('a') })
  const oldV = w.filter('v')
  const g1 = w.enter()
  await w.reload(def('b'))
  const ex = exchange()
  g1.chain('main').runRequest(ex)
  assert.equal(ex.headers['x-variant'], 'a', 'the request runs on the generation it entered')
  assert.equal(oldV?.state, 'ready', 'not closed while a request is on it')
  assert.deepEqual(w.status().draining, [{ generation: 1, inflight: 1 }])
  g1.leave()
  assert.equal(oldV?.state, 'closed')
  assert.equal(w.filter('noop')?.state, 'ready', 'a filter the new version shares stays open')
  assert.deepEqual(w.status().draining, [])
  await w.close()
})

test('after drainTimeoutMs the old version is closed anyway, with a warning', async (t) => {
  t.mock.timers.enable({ apis: ['setTimeout'] })
  const { logger, lines } = captureLogger()
  const w = await createWafer({ logger, drainTimeoutMs: 1000, ...def('a') })
  const oldV = w.filter('v')
  const stuck = w.enter()
  await w.reload(def('b'))
  t.mock.timers.tick(999)
  assert.equal(oldV?.state, 'ready')
  t.mock.timers.tick(1)
  assert.equal(oldV?.state, 'closed')
  assert.ok(lines.some((l) => l.level === 40 && /still has 1 requests after 1000 ms/.test(l.msg)))
  const ex = exchange()
  const d = stuck.chain('main').runRequest(ex)
  assert.ok(!(d instanceof Promise) && d.respond, 'a straggler fails cleanly')
  assert.equal(JSON.parse(d.response?.body as string).code, 'WAFER_ERR_FILTER_CLOSED')
  stuck.leave()
  await w.close()
})

test('a failed reload keeps the running version and says why', async () => {
  const { logger, lines } = captureLogger()
  const w = await createWafer({ logger, ...def('a') })
  const cases: Array<[WaferDefinition | (() => Promise<WaferDefinition>), string]> = [
    [def('a', { bad: { module: fixture('abi-v9') } }), 'WAFER_ERR_ABI_VERSION'],
    [{ filters: { v: { module: new TextEncoder().encode('half-written') } }, chains: { main: ['v'] } }, 'WAFER_ERR_MODULE_INVALID'],
    [def('a', { picky: { module: fixture('reject-config') } }), 'WAFER_ERR_FILTER_CONFIG'],
    [{ filters: { v: { module: fixture('variant-b') } }, chains: { main: ['noop', 'v'] } }, 'WAFER_ERR_CHAIN_INVALID'],
    [async () => { throw Object.assign(new Error('config file is half written'), { code: 'WAFER_ERR_CONFIG_PARSE' }) }, 'WAFER_ERR_CONFIG_PARSE']
  ]
  for (const [next, code] of cases) {
    const report = await w.reload(next)
    assert.equal(report.outcome, 'failed', code)
    assert.equal(report.error?.code, code)
    assert.equal(w.generation.id, 1)
    const ex = exchange()
    w.chain('main').runRequest(ex)
    assert.equal(ex.headers['x-variant'], 'a', 'still serving the running version')
  }
  assert.equal(lines.filter((l) => l.level === 50 && /reload failed; generation 1 keeps serving/.test(l.msg)).length, cases.length)
  assert.equal((await w.reload(def('b'))).outcome, 'applied', 'the next good change applies')
  await w.close()
})

test('a chain an adapter depends on must survive a reload', async () => {
  const w = await createWafer({ logger: silent, ...def('a') })
  w.requireChain(['noop', 'v'])
  const report = await w.reload({ filters: { noop: { module: fixture('noop') } }, chains: {} })
  assert.equal(report.outcome, 'failed')
  assert.match(report.error?.message ?? '', /uses filter "v", which is not declared/)
  assert.ok(w.filter('v'))
  await w.close()
})

test('host state survives reloads: a counter keeps counting', async () => {
  const store = new MemoryStore()
  const w = await createWafer({ logger: silent, store, filters: { kv: { module: fixture('kv-incr') } } })
  w.compose(['kv']).runRequest(exchange())
  await w.reload({ filters: { kv: { module: fixture('kv-incr'), pool: { max: 4 } } } })
  assert.equal(w.generation.id, 2)
  w.compose(['kv']).runRequest(exchange())
  assert.equal(Buffer.from(store.get('kv:hits') as Uint8Array).toString(), '2')
  await w.close()
})

test('reloads run one at a time, in call order', async () => {
  const w = await createWafer({ logger: silent, ...def('a') })
  const reports = await Promise.all([w.reload(def('b')), w.reload(def('a')), w.reload(def('a'))])
  assert.deepEqual(reports.map((r) => [r.outcome, r.from, r.to]), [['applied', 1, 2], ['applied', 2, 3], ['unchanged', 3, 3]])
  await w.close()
})

test('a paused request keeps its version across a reload', async () => {
  const inner = new MemoryStore()
  let release: (() => void) | undefined
  const store: KvStore = {
    get: (k) => inner.get(k),
    set: (k, v, o) => inner.set(k, v, o),
    delete: (k) => inner.delete(k),
    incr: (k, o) => new Promise((resolve) => { release = () => resolve(inner.incr(k, o)) })
  }
  const slow = (v: string): WaferDefinition => ({ filters: { kv: { module: fixture('kv-incr') }, v: { module: fixture(`variant-${v}`) } }, chains: { main: ['kv', 'v'] } })
  const w = await createWafer({ logger: silent, store, ...slow('a') })
  const g = w.enter()
  const ex = exchange()
  const pending = g.chain('main').runRequest(ex)
  assert.equal((await w.reload(slow('b'))).outcome, 'applied')
  release?.()
  await pending
  g.leave()
  assert.equal(ex.headers['x-variant'], 'a')
  await w.close()
})

test('a reload never rejects, whatever fails (a config error pino must log, a logger that throws, a thrown non-Error), and the next one applies', async () => {
  const { logger, lines } = captureLogger()
  const w = await createWafer({ logger, ...def('a') })
  // Issue 11.3: pino's error serializer threw on the frozen problems of a config error, inside the catch.
  const invalid = await w.reload(async () => {
    resolveConfig({ filters: { v: { module: 'v.wasm', failurPolicy: 'fail-open', pool: { max: 0 } } } }, '/etc/wafer/gw.json', '/')
    return def('b')
  })
  assert.equal(invalid.outcome, 'failed')
  assert.equal(invalid.error?.code, 'WAFER_ERR_CONFIG_INVALID')
  assert.equal(invalid.error?.file, '/etc/wafer/gw.json')
  assert.deepEqual(invalid.error?.problems?.map((p) => p.path), ['/filters/v/failurPolicy', '/filters/v/pool/max'])
  assert.match(invalid.error?.message ?? '', /\/filters\/v\/failurPolicy.*\n.*\/filters\/v\/pool\/max/, 'every line of the message')
  const line = lines.find((l) => l.level === 50 && l.msg.startsWith('reload failed')) as LogLine
  assert.deepEqual((line.reload as ReloadReport).error?.problems, invalid.error?.problems)
  assert.equal(w.status().lastReload, invalid)

  const odd = await w.reload(async () => { throw Object.create(null) as object })
  assert.deepEqual([odd.outcome, odd.error?.code], ['failed', 'WAFER_ERR_INTERNAL'])

  // A logger whose stream throws: the reload still resolves with its report.
  const failing = { write () { throw new Error('disk full') } }
  const quiet = await createWafer({ logger: silent, ...def('a') })
  Object.assign(quiet, { logger: pino({}, failing) })
  assert.throws(() => { quiet.logger.info('x') }, /disk full/)
  assert.equal((await quiet.reload(async () => { throw new Error('nope') })).outcome, 'failed')
  assert.equal((await quiet.reload(def('a'))).outcome, 'unchanged', 'a logger that throws changes no outcome')
  await quiet.close()

  assert.equal((await w.reload(def('b'))).outcome, 'applied', 'the queue survived every failure')
  await w.close()
})

test('a reload applies a new drainTimeoutMs; settings only a restart applies are reported and logged', async (t) => {
  t.mock.timers.enable({ apis: ['setTimeout'] })
  const { logger, lines } = captureLogger()
  const w = await createWafer({ logger, drainTimeoutMs: 1000, ...def('a') })
  const drain = await w.reload({ ...def('a'), drainTimeoutMs: 50 })
  assert.deepEqual([drain.outcome, drain.from, drain.to], ['applied', 1, 2], 'a changed drain timeout is a change')
  const oldV = w.filter('v')
  const stuck = w.enter()
  await w.reload(def('b'))
  t.mock.timers.tick(50)
  assert.equal(oldV?.state, 'closed', 'the replaced version got the new drain timeout')
  stuck.leave()
  assert.equal((await w.reload({ ...def('b'), drainTimeoutMs: -1 })).error?.code, 'WAFER_ERR_OPTIONS_INVALID')

  const restart = await w.reload({ ...def('b'), restartRequired: ['server.port', 'reload.watch'] })
  assert.equal(restart.outcome, 'unchanged')
  assert.deepEqual(restart.restartRequired, ['server.port', 'reload.watch'])
  assert.ok(lines.some((l) => l.level === 40 && l.msg === 'reload: server.port, reload.watch changed, but they are read at startup only; restart to apply'))
  await w.close()
})
