// The plugin on core's request driver: the reply's headers read one at a time and written back
// with reply.header/removeHeader, and every request's chain finished exactly once when its
// response closes, however it ended.
import assert from 'node:assert/strict'
import type { AddressInfo } from 'node:net'
import { test } from 'node:test'
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify'
import wafer from '../src/index.ts'
import { captureLogger, fixture, silent } from '../../../test/support/index.ts'
import { abortInRoute, countFinish } from '../../../test/support/count-finish.ts'

const filters = {
  stamp: { module: fixture('stamp') },
  sdk: { module: fixture('sdk-api') },
  deny: { module: fixture('deny') },
  trap: { module: fixture('trap') },
  wrap: { module: fixture('body-upper'), config: { response: true } }
}

async function app (t: { after: (fn: () => Promise<void>) => void }, logger: FastifyBaseLogger = silent): Promise<FastifyInstance> {
  const fastify = Fastify({ loggerInstance: logger })
  await fastify.register(wafer, { filters, chain: ['stamp'] })
  t.after(() => fastify.close())
  return fastify
}

test('a header-only response filter: no copy of the reply\'s header list; its header is written back', async (t) => {
  const fastify = await app(t)
  let copies = 0
  fastify.addHook('onRequest', (_request, reply, done) => {
    const getHeaders = reply.getHeaders.bind(reply)
    reply.getHeaders = () => {
      copies++
      return getHeaders()
    }
    done()
  })
  fastify.get('/x', async (_request, reply) => reply.header('x-route', '1').send('ok'))
  const res = await fastify.inject('/x')
  assert.equal(res.headers['x-stamped'], 'a')
  assert.equal(res.headers['x-route'], '1')
  assert.equal(copies, 0)
})

test('a filter that sets set-cookie replaces the route\'s cookies instead of appending to them', async (t) => {
  const fastify = await app(t)
  fastify.get('/c', { config: { wafer: { chain: ['sdk'] } } }, async (_request, reply) => reply.header('set-cookie', 'route=1').header('x-route', '1').send('ok'))
  const res = await fastify.inject('/c')
  assert.deepEqual(res.headers['set-cookie'], ['a=1', 'b=2'])
})

test('a replaced reply body drops the route\'s etag, which described the old body', async (t) => {
  const fastify = await app(t)
  fastify.post('/w', { config: { wafer: { chain: ['wrap'] } } }, async (_request, reply) => reply.header('etag', '"old"').send('reply'))
  const res = await fastify.inject({ method: 'POST', url: '/w', payload: 'x', headers: { 'content-type': 'text/plain' } })
  assert.equal(res.body, '[reply]')
  assert.equal(res.headers.etag, undefined)
})

test('finish runs once per request: a normal reply, a local response, a failed filter', async (t) => {
  const fastify = await app(t)
  fastify.get('/ok', async () => 'ok')
  fastify.get('/deny', { config: { wafer: { chain: ['stamp', 'deny'] } } }, async () => 'never')
  fastify.get('/trap', { config: { wafer: { chain: ['trap'] } } }, async () => 'never')
  await fastify.ready()
  const generation = fastify.wafer.generation
  const counts = [['stamp'], ['stamp', 'deny'], ['trap']].map((spec) => countFinish(t, generation.chain(spec)))
  assert.equal((await fastify.inject('/ok')).statusCode, 200)
  assert.equal((await fastify.inject('/deny')).statusCode, 403)
  assert.equal((await fastify.inject('/trap')).statusCode, 503)
  assert.deepEqual(counts.map((c) => c.count), [1, 1, 1])
  assert.equal(generation.inflight, 0)
})

test('a client that leaves mid-request: its chain is finished when the response closes, once', async (t) => {
  const fastify = await app(t)
  let release: () => void = () => {}
  const held = new Promise<void>((resolve) => { release = resolve })
  let entered: () => void = () => {}
  const inRoute = new Promise<void>((resolve) => { entered = resolve })
  fastify.get('/slow', async () => {
    entered()
    await held
    return 'late'
  })
  await fastify.listen({ port: 0, host: '127.0.0.1' })
  const generation = fastify.wafer.generation
  const counter = countFinish(t, generation.chain(['stamp']))
  await abortInRoute('127.0.0.1', (fastify.server.address() as AddressInfo).port, '/slow', inRoute, generation)
  assert.equal(counter.count, 1)
  release()
  await new Promise((resolve) => setTimeout(resolve, 20))
  assert.equal(counter.count, 1, 'the late reply does not finish it again')
})

test('a fault in the response phase is the route\'s error: logged, 500, the request still finished', async (t) => {
  const log = captureLogger('info')
  const fastify = await app(t, log.logger)
  fastify.get('/x', async () => 'ok')
  await fastify.ready()
  const chain = fastify.wafer.generation.chain(['stamp'])
  const counter = countFinish(t, chain)
  chain.runResponse = () => { throw new Error('response phase bug') }
  t.after(() => { Reflect.deleteProperty(chain, 'runResponse') })
  const res = await fastify.inject('/x')
  assert.equal(res.statusCode, 500)
  assert.equal(res.json().message, 'response phase bug')
  const line = log.lines.find((l) => l.level === 50 && (l.err as { message?: string } | undefined)?.message === 'response phase bug')
  assert.ok(line, 'logged at error level with the error')
  assert.equal(counter.count, 1)
})
