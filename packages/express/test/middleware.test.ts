// Creating the middleware: options, loading (awaited and in the background), chains, closing.
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { mkdtemp, readFile, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import express from 'express'
import { createWafer } from '@wafer/core'
import { createWaferMiddleware, wafer, type WaferExpressOptions } from '../src/index.ts'
import { captureLogger, fixture, silent } from '../../../test/support/index.ts'
import { listen } from './support/app.ts'

const filters = {
  stamp: { module: fixture('stamp') },
  a: { module: fixture('tag'), config: { name: 'A' } },
  b: { module: fixture('tag'), config: { name: 'B' } },
  upper: { module: fixture('body-upper') }
}

const options = (more: Partial<WaferExpressOptions> = {}): WaferExpressOptions => ({ filters, logger: silent, ...more })

test('a module that cannot be read fails creation with WAFER_ERR_MODULE_READ naming the file', async () => {
  await assert.rejects(createWaferMiddleware(options({ filters: { gone: { module: '/nonexistent/gone.wasm' } } })), {
    code: 'WAFER_ERR_MODULE_READ', message: /\/nonexistent\/gone\.wasm/
  })
})

test('a filter that rejects its config fails creation with WAFER_ERR_FILTER_CONFIG', async () => {
  await assert.rejects(createWaferMiddleware(options({ filters: { bad: { module: fixture('reject-config'), config: { limit: -1 } } } })), {
    code: 'WAFER_ERR_FILTER_CONFIG', message: /"limit" must be a positive integer/
  })
})

test('wrong options throw where wafer() is called, naming the option', () => {
  assert.throws(() => wafer({ filters, chian: ['stamp'] } as never), { code: 'WAFER_ERR_OPTIONS_INVALID', message: /@wafer\/express:\n {2}- \/chian: unknown key \(allowed: config, filters/ })
  assert.throws(() => wafer({ filters, config: { filters: {} } }), { code: 'WAFER_ERR_OPTIONS_INVALID', message: /either "config" or "filters"/ })
  assert.throws(() => wafer({ filters, watch: true }), { code: 'WAFER_ERR_OPTIONS_INVALID', message: /\/watch: needs "config" to be a file path/ })
  assert.throws(() => wafer({ filters, bodyLimit: -1 }), { code: 'WAFER_ERR_OPTIONS_INVALID', message: /\/bodyLimit: must be an integer >= 0, got -1/ })
  assert.throws(() => wafer({ filters, chain: { name: 'x' } as never }), { code: 'WAFER_ERR_OPTIONS_INVALID', message: /\/chain: must be a chain name or an array of filter names, got \{"name":"x"\}/ })
  assert.throws(() => wafer({}), { code: 'WAFER_ERR_OPTIONS_INVALID', message: /pass "config", "filters"/ })
})

test('a config with routes is refused: they are the gateway\'s', async () => {
  const config = join(import.meta.dirname, '../../../examples/gateway/gateway.yaml')
  await assert.rejects(createWaferMiddleware({ config, logger: silent }), {
    code: 'WAFER_ERR_OPTIONS_INVALID', message: /declares \d+ route\(s\); @wafer\/express runs a config's filters and chains, not its routes/
  })
})

test('a config without routes: its filters and named chains', async (t) => {
  const log = captureLogger('warn')
  const mw = await createWaferMiddleware({
    config: { filters: { stamp: { module: fixture('stamp'), capabilities: ['log'] } }, chains: { main: ['stamp'] } },
    chain: 'main',
    logger: log.logger
  })
  t.after(() => mw.close())
  const app = express()
  app.use(mw)
  app.get('/', (req, res) => { res.send(req.headers['x-stamp']) })
  const res = await fetch(await listen(t, app))
  assert.equal(res.headers.get('x-stamped'), 'a')
  assert.equal(await res.text(), 'a')
})

test('chain() with an undeclared filter throws WAFER_ERR_CHAIN_INVALID; so does a global chain, at creation', async (t) => {
  const mw = await createWaferMiddleware(options())
  t.after(() => mw.close())
  assert.throws(() => mw.chain(['stamp', 'nope']), { code: 'WAFER_ERR_CHAIN_INVALID', message: /uses filter "nope", which is not declared/ })
  assert.throws(() => mw.chain('missing'), { code: 'WAFER_ERR_CHAIN_INVALID', message: /no chain of that name/ })
  await assert.rejects(createWaferMiddleware(options({ chain: ['nope'] })), { code: 'WAFER_ERR_CHAIN_INVALID' })
})

test('a global chain and a route chain compose: request A,B then the route; response in reverse; one generation', async (t) => {
  const mw = await createWaferMiddleware(options({ chain: ['a'] }))
  t.after(() => mw.close())
  const app = express()
  app.use(mw)
  let inflight = -1
  app.get('/x', mw.chain(['b']), (req, res) => {
    inflight = mw.wafer.generation.inflight
    res.json({ order: req.headers['x-order'] })
  })
  const res = await fetch(`${await listen(t, app)}/x`)
  assert.deepEqual(await res.json(), { order: 'A,B' })
  assert.equal(res.headers.get('x-order'), 'B,A')
  assert.equal(inflight, 1, 'the request entered the generation once, for both chains')
})

test('wafer() in app.use: requests wait while the filters load, up to maxWaiting; beyond it 503', { skip: process.platform === 'win32' }, async (t) => {
  // The module is a named pipe: loading blocks until the test writes the bytes into it.
  const fifo = join(await mkdtemp(join(tmpdir(), 'wafer-express-')), 'stamp.wasm')
  execFileSync('mkfifo', [fifo])
  const mw = wafer({ filters: { stamp: { module: fifo } }, chain: ['stamp'], maxWaiting: 1, logger: silent })
  t.after(() => mw.close())
  assert.throws(() => mw.wafer, { code: 'WAFER_ERR_NOT_READY', message: /`await middleware.ready` resolves to the runtime/ })
  let arrived: () => void = () => {}
  const first = new Promise<void>((resolve) => { arrived = resolve })
  const app = express()
  app.use((_req, _res, next) => { arrived(); next() })
  app.use(mw)
  app.get('/', (req, res) => { res.send(req.headers['x-stamp']) })
  const url = await listen(t, app)

  const waiting = fetch(url)
  await first
  const refused = await fetch(url)
  assert.equal(refused.status, 503)
  assert.equal((await refused.json() as { code: string }).code, 'WAFER_ERR_NOT_READY')

  await writeFile(fifo, await readFile(fixture('stamp')))
  const res = await waiting
  assert.equal(res.headers.get('x-stamped'), 'a')
  assert.equal(await res.text(), 'a')
  assert.equal(await mw.ready, mw.wafer)
})

test('wafer() whose filters fail to load: ready rejects; if the app handles that, requests get the coded error', async (t) => {
  const log = captureLogger('error')
  const mw = wafer({ filters: { gone: { module: '/nonexistent/gone.wasm' } }, chain: ['gone'], logger: log.logger })
  await assert.rejects(mw.ready, { code: 'WAFER_ERR_MODULE_READ' })
  const app = express()
  app.use(mw)
  app.get('/', (_req, res) => { res.send('never') })
  const res = await fetch(await listen(t, app))
  assert.equal(res.status, 500)
  assert.deepEqual(await res.json(), { statusCode: 500, code: 'WAFER_ERR_MODULE_READ', error: 'Internal Server Error', message: 'The Wafer filters failed to load' })
  assert.ok(log.lines.some((l) => /Wafer failed to load: Cannot read filter module/.test(l.msg)))
  await mw.close()
})

test('wafer() with a chain() registered before loading that does not resolve: ready rejects', async () => {
  const mw = wafer(options())
  mw.chain(['nope'])
  await assert.rejects(mw.ready, { code: 'WAFER_ERR_CHAIN_INVALID' })
})

test('an existing runtime: ready at once, and close() leaves it open', async () => {
  const runtime = await createWafer({ filters, logger: silent })
  const mw = wafer({ wafer: runtime, chain: ['stamp'] })
  assert.equal(mw.wafer, runtime)
  await mw.close()
  assert.equal(runtime.filter('stamp')?.state, 'ready')
  await runtime.close()
  assert.throws(() => wafer({ wafer: runtime, filters }), { code: 'WAFER_ERR_OPTIONS_INVALID', message: /either "wafer" or "filters"/ })
  assert.throws(() => wafer({ wafer: runtime, chain: ['nope'] }), { code: 'WAFER_ERR_CHAIN_INVALID' }, 'checked at once: nothing loads')
})

test('close() closes the runtime the middleware created', async () => {
  const mw = await createWaferMiddleware(options())
  const stamp = mw.wafer.filter('stamp')
  await mw.close()
  assert.equal(stamp?.state, 'closed')
})

test('reload() without a config reports a failed reload; the running version keeps serving', async (t) => {
  const mw = await createWaferMiddleware(options())
  t.after(() => mw.close())
  const report = await mw.reload()
  assert.equal(report.outcome, 'failed')
  assert.equal(report.error?.code, 'WAFER_ERR_OPTIONS_INVALID')
  assert.match(report.error?.message ?? '', /reload\(\) needs a config/)
})

test('log lines carry reqId: req-N by default, genReqId when given, an id set by earlier middleware (pino-http)', async (t) => {
  const seen = async (more: Partial<WaferExpressOptions>, before?: express.RequestHandler): Promise<unknown[]> => {
    const log = captureLogger('info')
    const mw = await createWaferMiddleware(options({ chain: ['upper'], logger: log.logger, ...more }))
    t.after(() => mw.close())
    const app = express()
    if (before !== undefined) app.use(before)
    app.use(mw)
    app.get('/', (_req, res) => { res.send('ok') })
    const url = await listen(t, app)
    await (await fetch(url)).text()
    await (await fetch(url)).text()
    return log.lines.filter((l) => l.filter === 'upper' && /body-upper saw no body/.test(l.msg)).map((l) => l.reqId)
  }
  assert.deepEqual(await seen({}), ['req-1', 'req-2'])
  let n = 0
  assert.deepEqual(await seen({ genReqId: () => `mine-${++n}` }), ['mine-1', 'mine-2'])
  let m = 0
  assert.deepEqual(await seen({}, (req, _res, next) => { (req as unknown as { id: number }).id = ++m * 10; next() }), ['10', '20'])
})

test('a client gone before the middleware ran: no filter runs, and no request is left on the generation', async (t) => {
  const mw = await createWaferMiddleware(options({ chain: ['stamp'] }))
  t.after(() => mw.close())
  let arrived: () => void = () => {}
  const inSlow = new Promise<void>((resolve) => { arrived = resolve })
  let passed: () => void = () => {}
  const done = new Promise<void>((resolve) => { passed = resolve })
  const app = express()
  // Slow middleware (a session lookup, say) that continues only after the client left.
  app.use((_req, res, next) => {
    arrived()
    res.once('close', () => { next(); passed() })
  })
  app.use(mw)
  app.get('/', (_req, res) => { res.send('never') })
  const controller = new AbortController()
  const pending = fetch(await listen(t, app), { signal: controller.signal }).catch(() => undefined)
  await inSlow
  controller.abort()
  await pending
  await done
  assert.equal(mw.wafer.generation.inflight, 0)
})
