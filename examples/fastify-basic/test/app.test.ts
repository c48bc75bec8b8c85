import assert from 'node:assert/strict'
import { test } from 'node:test'
// @ts-expect-error the example is plain JavaScript, kept runnable without a build step
import { build } from '../app.mjs'
import type { FastifyInstance } from 'fastify'

async function app (limit = 3): Promise<FastifyInstance> {
  return build({ logger: false, limit }) as Promise<FastifyInstance>
}

test('no API key: 401 with WWW-Authenticate, and the route never runs', async (t) => {
  const fastify = await app()
  t.after(() => fastify.close())
  const res = await fastify.inject('/api/items')
  assert.equal(res.statusCode, 401)
  assert.equal(res.headers['www-authenticate'], 'ApiKey')
  assert.ok(res.json().error, 'a JSON error body')
})

test('a wrong API key: 401', async (t) => {
  const fastify = await app()
  t.after(() => fastify.close())
  assert.equal((await fastify.inject({ url: '/api/items', headers: { 'x-api-key': 'wrong' } })).statusCode, 401)
})

test('a good key: 200, path rewritten, request id added, key removed before the route, rate-limit headers', async (t) => {
  const fastify = await app()
  t.after(() => fastify.close())
  const res = await fastify.inject({ url: '/api/items?page=2', headers: { 'x-api-key': 'demo-key' } })
  assert.equal(res.statusCode, 200)
  const body = res.json()
  assert.equal(body.path, '/internal/items?page=2')
  assert.equal(body.gateway, 'wafer')
  assert.equal(body.subject, 'demo')
  assert.match(body.requestId, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/)
  assert.equal(res.headers['x-request-id'], body.requestId, 'the request id is echoed on the response')
  assert.equal(res.headers['ratelimit-limit'], '3')
  assert.equal(res.headers['ratelimit-remaining'], '2')
})

test('past the limit: 429 with Retry-After and RateLimit headers; other keys are counted apart', async (t) => {
  const fastify = await app(3)
  t.after(() => fastify.close())
  const codes = []
  for (let i = 0; i < 4; i++) codes.push((await fastify.inject({ url: '/api/items', headers: { 'x-api-key': 'demo-key' } })).statusCode)
  assert.deepEqual(codes, [200, 200, 200, 429])
  const res = await fastify.inject({ url: '/api/items', headers: { 'x-api-key': 'demo-key' } })
  assert.equal(res.statusCode, 429)
  const retry = Number(res.headers['retry-after'])
  assert.ok(Number.isInteger(retry) && retry >= 1 && retry <= 60, `retry-after ${String(res.headers['retry-after'])}`)
  assert.equal(res.headers['ratelimit-remaining'], '0')
  assert.equal(res.json().error, 'rate limit exceeded')
  const other = await fastify.inject({ url: '/api/items', headers: { 'x-api-key': 'other-key' } })
  assert.equal(other.statusCode, 200, 'the other key has its own window')
  assert.equal(other.headers['ratelimit-remaining'], '2', 'counted from the start, not with demo-key')
})

test('the public route skips auth', async (t) => {
  const fastify = await app()
  t.after(() => fastify.close())
  const res = await fastify.inject('/health')
  assert.equal(res.statusCode, 200)
  assert.deepEqual(res.json(), { ok: true })
  assert.ok(res.headers['x-request-id'])
})
