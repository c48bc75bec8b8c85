import assert from 'node:assert/strict'
import { test } from 'node:test'
import Fastify from 'fastify'
import wafer, { type WaferPluginOptions } from '../src/index.ts'
import { captureLogger, fixture } from '../../../test/support/index.ts'
import { delayedStore } from '../../../test/support/stores.ts'

const filters = {
  stamp: { module: fixture('stamp') },
  deny: { module: fixture('deny') },
  trap: { module: fixture('trap') },
  rewrite: { module: fixture('rewrite-path') },
  kv: { module: fixture('kv-incr') }
}

async function app (options: Partial<WaferPluginOptions> = {}, logger = captureLogger()) {
  const fastify = Fastify({ loggerInstance: logger.logger })
  await fastify.register(wafer, { filters, ...options })
  fastify.get('/echo', async (req) => ({ url: req.url, query: req.query, stamp: req.headers['x-stamp'] ?? null }))
  return fastify
}

test('the global chain runs on every route and the route sees the filtered request', async (t) => {
  const fastify = await app({ chain: ['stamp'] })
  t.after(() => fastify.close())
  const res = await fastify.inject('/echo')
  assert.equal(res.statusCode, 200)
  assert.equal(res.json().stamp, 'a')
  assert.equal(res.headers['x-stamped'], 'a', 'the response phase stamped the reply')
})

test('a route chain replaces the global one; `false` turns filters off; a chain can be named', async (t) => {
  const fastify = await app({ chain: ['stamp'], chains: { strict: ['deny'] } })
  t.after(() => fastify.close())
  fastify.get('/own', { config: { wafer: { chain: ['rewrite'] } } }, async (req) => ({ url: req.url, stamp: req.headers['x-stamp'] ?? null }))
  fastify.get('/off', { config: { wafer: false } }, async (req) => ({ stamp: req.headers['x-stamp'] ?? null }))
  fastify.get('/strict', { config: { wafer: { chain: 'strict' } } }, async () => 'unreachable')
  assert.deepEqual((await fastify.inject('/own')).json(), { url: '/rewritten?q=1', stamp: null })
  const off = await fastify.inject('/off')
  assert.deepEqual(off.json(), { stamp: null })
  assert.equal(off.headers['x-stamped'], undefined)
  assert.equal((await fastify.inject('/strict')).statusCode, 403)
})

test('a rewritten path and query are what the route sees as request.url and request.query', async (t) => {
  const fastify = await app({ chain: ['rewrite'] })
  t.after(() => fastify.close())
  const body = (await fastify.inject('/echo?orig=1')).json()
  assert.equal(body.url, '/rewritten?q=1')
  assert.deepEqual(body.query, { q: '1' })
})

test('a filter response short-circuits: the route never runs, earlier filters see the reply', async (t) => {
  const fastify = await app({ chain: ['stamp', 'deny'] })
  t.after(() => fastify.close())
  let called = 0
  fastify.get('/x', async () => { called++; return 'route' })
  const res = await fastify.inject('/x')
  assert.equal(res.statusCode, 403)
  assert.equal(res.body, 'denied')
  assert.equal(res.headers['x-denied-by'], 'deny')
  assert.equal(res.headers['x-stamped'], 'a', 'stamp passed the request, so its response phase ran')
  assert.equal(called, 0)
})

test('a trapping filter gives a clean JSON 503 naming it, a log line with reqId, and the server keeps serving', async (t) => {
  const log = captureLogger()
  const fastify = await app({}, log)
  t.after(() => fastify.close())
  fastify.get('/trap', { config: { wafer: { chain: ['trap'] } } }, async () => 'unreachable')
  fastify.get('/fine', async () => 'fine')
  for (let i = 0; i < 3; i++) {
    const res = await fastify.inject('/trap')
    assert.equal(res.statusCode, 503)
    assert.equal(res.headers['content-type'], 'application/json; charset=utf-8')
    assert.deepEqual(res.json(), { statusCode: 503, code: 'WAFER_ERR_FILTER_TRAP', error: 'Service Unavailable', message: 'Filter "trap" failed', filter: 'trap', reason: 'trap' })
  }
  assert.equal((await fastify.inject('/fine')).body, 'fine')
  const lines = log.lines.filter((l) => l.level === 50 && l.filter === 'trap')
  assert.equal(lines.length, 3)
  assert.match(String(lines[0]?.reqId), /^req-/)
  const status = fastify.wafer.filter('trap')?.status()
  assert.equal(status?.pool.discarded, 3, 'each trapped instance was discarded')
  assert.equal(status?.pool.size, 1, 'and replaced')
})

test('filters waiting on an asynchronous store hold the request, not the event loop', async (t) => {
  const { store, inner } = delayedStore(5)
  const fastify = await app({ chain: ['kv'], store })
  t.after(() => fastify.close())
  fastify.get('/kv', async (req) => req.headers['x-kv'])
  const results = await Promise.all(Array.from({ length: 20 }, () => fastify.inject('/kv')))
  assert.ok(results.every((r) => r.statusCode === 200 && r.body === 'ok'))
  assert.equal(Buffer.from(inner.get('kv:hits') as Uint8Array).toString(), '20')
})

test('a filter that rejects its config makes registration fail with WAFER_ERR_FILTER_CONFIG', async () => {
  const fastify = Fastify()
  await assert.rejects(async () => { await fastify.register(wafer, { filters: { bad: { module: fixture('reject-config'), config: { limit: -1 } } } }).ready() }, {
    code: 'WAFER_ERR_FILTER_CONFIG',
    message: /Filter "bad" .* rejected its configuration: "limit" must be a positive integer/
  })
})

test('a route naming an undeclared filter fails at startup with WAFER_ERR_CHAIN_INVALID', async () => {
  const fastify = Fastify()
  await fastify.register(wafer, { filters })
  assert.throws(() => fastify.get('/x', { config: { wafer: { chain: ['stamp', 'nope'] } } }, async () => 'x'), {
    code: 'WAFER_ERR_CHAIN_INVALID',
    message: /uses filter "nope", which is not declared/
  })
  await fastify.close()
})

test('unknown plugin options are rejected, not ignored', async () => {
  const fastify = Fastify()
  await assert.rejects(async () => { await fastify.register(wafer, { filters, chian: ['stamp'] } as never).ready() }, {
    code: 'WAFER_ERR_OPTIONS_INVALID',
    message: /@wafer\/fastify:\n {2}- \/chian: unknown key \(allowed: config, filters/
  })
})

test('over a real socket', async (t) => {
  const fastify = await app({ chain: ['stamp'] })
  t.after(() => fastify.close())
  const address = await fastify.listen({ port: 0, host: '127.0.0.1' })
  const res = await fetch(`${address}/echo`)
  assert.equal(res.status, 200)
  assert.equal(res.headers.get('x-stamped'), 'a')
  assert.equal((await res.json() as { stamp: string }).stamp, 'a')
})

test('closing the app closes the runtime it created', async () => {
  const fastify = await app({ chain: ['stamp'] })
  await fastify.ready()
  const stamp = fastify.wafer.filter('stamp')
  await fastify.close()
  assert.equal(stamp?.state, 'closed')
})

test('a trap in the middle of a chain: 503, later filters and the route never run, earlier filters see the error', async (t) => {
  const fastify = await app({ chain: ['stamp', 'trap', 'rewrite'] })
  t.after(() => fastify.close())
  let called = 0
  fastify.get('/mid', async () => { called++; return 'route' })
  const res = await fastify.inject('/mid')
  assert.equal(res.statusCode, 503)
  assert.equal(res.json().filter, 'trap')
  assert.equal(res.json().reason, 'trap')
  assert.equal(res.headers['x-stamped'], 'a', 'stamp passed the request, so its response phase saw the error reply')
  assert.equal(called, 0)
  assert.equal(fastify.wafer.filter('rewrite')?.status().calls, 0, 'the filter after the trap never ran')
  assert.equal((await fastify.inject('/echo')).statusCode, 503, 'the global chain still traps: the next request runs (fresh instance) and fails the same way')
  assert.equal(fastify.wafer.filter('trap')?.status().pool.discarded, 2)
})
