import assert from 'node:assert/strict'
import { test } from 'node:test'
import Fastify from 'fastify'
import wafer from '../src/index.ts'
import { captureLogger, fixture } from '../../../test/support/index.ts'

async function app (options: { bodyLimit?: number, responseBodyLimit?: number } = {}) {
  const log = captureLogger()
  const fastify = Fastify({ loggerInstance: log.logger, bodyLimit: options.bodyLimit ?? 1024 * 1024 })
  await fastify.register(wafer, {
    filters: {
      tag: { module: fixture('tag'), config: { name: 'T' } },
      upper: { module: fixture('body-upper') },
      wrap: { module: fixture('body-upper'), config: { response: true } }
    },
    chain: ['tag', 'upper'],
    ...(options.responseBodyLimit === undefined ? {} : { responseBodyLimit: options.responseBodyLimit })
  })
  fastify.post('/echo', async (req) => ({ body: req.body, seen: req.headers['x-body'], order: req.headers['x-order'] }))
  fastify.get('/echo', async (req) => ({ seen: req.headers['x-body'] }))
  fastify.post('/wrapped', { config: { wafer: { chain: ['wrap'] } } }, async () => 'reply')
  return { fastify, log }
}

test('a body filter sees the raw body; Fastify parses the body it leaves', async (t) => {
  const { fastify, log } = await app()
  t.after(() => fastify.close())
  const res = await fastify.inject({ method: 'POST', url: '/echo', payload: { name: 'wafer' } })
  assert.equal(res.statusCode, 200)
  assert.deepEqual(res.json(), { body: { NAME: 'WAFER' }, seen: '16', order: 'T' })
  const line = log.lines.find((l) => l.filter === 'upper' && /body-upper saw/.test(l.msg))
  assert.ok(line, 'the filter logged through request.log')
  assert.equal(line.msg, 'body-upper saw 16 characters')
  assert.match(String(line.reqId), /^req-/, 'with the request id')
})

test('a bodyless request still runs the body filters, with no body', async (t) => {
  const { fastify } = await app()
  t.after(() => fastify.close())
  assert.deepEqual((await fastify.inject('/echo')).json(), { seen: 'none' })
})

test('a GET or HEAD route runs its whole chain in onRequest (no preParsing hook): body filters see no body, as the route', async (t) => {
  const { fastify } = await app()
  const hooks: Record<string, unknown[]> = {}
  fastify.addHook('onRoute', (route) => {
    hooks[`${String(route.method)} ${route.url}`] = [route.onRequest, route.preParsing].map((h) => (Array.isArray(h) ? h : h === undefined ? [] : [h]).length)
  })
  fastify.get('/late', async (req) => ({ seen: req.headers['x-body'], order: req.headers['x-order'] }))
  fastify.post('/late', async (req) => ({ seen: req.headers['x-body'] }))
  t.after(() => fastify.close())
  await fastify.ready()
  assert.deepEqual(hooks['GET /late'], [1, 0], 'onRequest only')
  assert.deepEqual(hooks['POST /late'], [1, 1], 'a POST route keeps its preParsing hook')
  const get = await fastify.inject({ method: 'GET', url: '/late', payload: 'abc', headers: { 'content-type': 'text/plain' } })
  assert.deepEqual(get.json(), { seen: 'none', order: 'T' }, 'both filters ran, the body filter without the body Fastify ignores')
  const head = await fastify.inject({ method: 'HEAD', url: '/late' })
  assert.equal(head.statusCode, 200)
  assert.deepEqual((await fastify.inject({ method: 'POST', url: '/late', payload: 'abcd', headers: { 'content-type': 'text/plain' } })).json(), { seen: '4' })
})

test('a body over the route bodyLimit is refused with 413 before any body filter runs', async (t) => {
  const { fastify, log } = await app({ bodyLimit: 100 })
  t.after(() => fastify.close())
  const res = await fastify.inject({ method: 'POST', url: '/echo', payload: { data: 'x'.repeat(200) } })
  assert.equal(res.statusCode, 413)
  assert.equal(res.json().code, 'WAFER_ERR_BODY_TOO_LARGE')
  assert.match(res.json().message, /exceeds the limit of 100 bytes/)
  assert.ok(!log.lines.some((l) => l.filter === 'upper' && /saw/.test(l.msg)), 'the filter never saw it')
})

test('a body over the limit is refused over a real socket, and the server keeps serving', async (t) => {
  const { fastify } = await app({ bodyLimit: 1000 })
  t.after(() => fastify.close())
  const base = await fastify.listen({ port: 0, host: '127.0.0.1' })
  const big = await fetch(`${base}/echo`, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: 'y'.repeat(50_000) })
  assert.equal(big.status, 413)
  const ok = await fetch(`${base}/echo`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"a":"b"}' })
  assert.equal(ok.status, 200)
  assert.deepEqual(await ok.json(), { body: { A: 'B' }, seen: '9', order: 'T' })
})

test('a response-body filter rewrites the reply body', async (t) => {
  const { fastify } = await app()
  t.after(() => fastify.close())
  const res = await fastify.inject({ method: 'POST', url: '/wrapped', payload: 'x', headers: { 'content-type': 'text/plain' } })
  assert.equal(res.body, '[reply]')
  assert.equal(res.headers['content-length'], '7')
})

test('a reply over responseBodyLimit fails with WAFER_ERR_RESPONSE_TOO_LARGE instead of being buffered', async (t) => {
  const { fastify } = await app({ responseBodyLimit: 3 })
  t.after(() => fastify.close())
  const res = await fastify.inject({ method: 'POST', url: '/wrapped', payload: 'x', headers: { 'content-type': 'text/plain' } })
  assert.equal(res.statusCode, 500)
  assert.equal(res.json().code, 'WAFER_ERR_RESPONSE_TOO_LARGE')
})
