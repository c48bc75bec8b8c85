// The AssemblyScript SDK's accessors beyond what the example filters use, through the Fastify
// plugin: what a filter reads, and what its changes do to the request, the reply and a local reply.
import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { test } from 'node:test'
import Fastify from 'fastify'
import wafer from '@wafer/fastify'
import { fixture, silent } from '../support/index.ts'

const LONG_NAME = `x-${'l'.repeat(70)}`

async function app () {
  const fastify = Fastify({ loggerInstance: silent })
  await fastify.register(wafer, { filters: { sdk: { module: fixture('sdk-api') } }, chain: ['sdk'] })
  fastify.all('/*', async (req, reply) => {
    reply.header('x-route', '1').header('x-secret', 's')
    return { url: req.url, headers: req.headers }
  })
  return fastify
}

test('request accessors: header values kept apart, names, exact checks, fields, several values, a long name, the query', async (t) => {
  const fastify = await app()
  t.after(() => fastify.close())
  const res = await fastify.inject({ method: 'POST', url: '/p?q=1', headers: { 'set-cookie': ['a=1', 'b=2'], 'x-exact': 'yes' } })
  const seen = res.json().headers
  assert.equal(seen['x-values'], 'a=1|b=2')
  assert.equal(seen['x-has-names'], 'yes')
  assert.equal(seen['x-is'], '1')
  assert.equal(seen['x-has'], '1', 'names are case-insensitive')
  assert.equal(seen['x-fields'], 'POST /p q=1 id')
  assert.equal(seen['x-list'], 'a, b')
  assert.equal(seen[LONG_NAME], 'long')
  assert.equal(res.json().url, '/p?q=2')
  const other = (await fastify.inject({ url: '/p', headers: { 'x-exact': 'yes!' } })).json().headers
  assert.equal(other['x-is'], '0')
  assert.equal(other['x-has-names'], 'yes')
  assert.equal(other['x-values'], '')
  assert.equal((await fastify.inject('/p')).json().headers['x-has'], '0')
})

test('kv answers inside the call with the in-memory store: get after set, del twice, incr returns the counter', async (t) => {
  const fastify = await app()
  t.after(() => fastify.close())
  assert.equal((await fastify.inject('/p')).json().headers['x-kv'], 'v1,1,0,7,now')
  assert.equal((await fastify.inject('/p')).json().headers['x-kv'], 'v1,1,0,14,now', 'the counter is kept between requests')
})

test('response accessors: status from the request the route saw, several values, names, remove', async (t) => {
  const fastify = await app()
  t.after(() => fastify.close())
  const res = await fastify.inject({ url: '/p', headers: { 'x-exact': 'yes' } })
  assert.equal(res.statusCode, 201)
  assert.deepEqual(res.headers['set-cookie'], ['a=1', 'b=2'])
  assert.equal(res.headers['x-route-seen'], 'yes')
  assert.equal(res.headers['x-status-seen'], '201', 'a read sees the filter\'s own change')
  assert.equal(res.headers['x-secret'], undefined)
  assert.equal((await fastify.inject('/p')).statusCode, 200)
})

test('respond: repeated names and [name, v1, v2] send several values; the body is UTF-8 text', async (t) => {
  const fastify = await app()
  t.after(() => fastify.close())
  const res = await fastify.inject({ url: '/p', headers: { 'x-deny': '1' } })
  assert.equal(res.statusCode, 403)
  assert.equal(res.body, 'denied ✓')
  assert.match(String(res.headers['content-type']), /^text\/plain; charset=utf-8/)
  assert.equal(res.headers['x-why'], 'deny, again')
  assert.equal(res.headers['x-pair'], '1, 2')
})

async function bytesApp () {
  const fastify = Fastify({ loggerInstance: silent })
  await fastify.register(wafer, { filters: { bytes: { module: fixture('sdk-bytes') } }, chain: ['bytes'] })
  fastify.all('/*', async (req, reply) => {
    reply.header('x-route', 'r1')
    return { url: req.url, headers: req.headers }
  })
  return fastify
}

test('ByteBuffer: decimals, a header read into it (grown past its capacity), UTF-8, sha256Into, a UUID, kv.incrBytes', async (t) => {
  const fastify = await bytesApp()
  t.after(() => fastify.close())
  const long = 'v'.repeat(5000)
  const res = await fastify.inject({ url: '/old/a?x=1', headers: { 'x-in': long } })
  const seen = res.json().headers
  assert.equal(seen['x-numbers'], '0,-42,9223372036854775807,-9223372036854775808')
  const edges = [9, 10, 4294967295, 4294967296, 4294967297, -4294967295, -4294967296, 42949672950, 1000000000, 9999999999, 10000000000, 1000000000000000000n]
  assert.equal(seen['x-number-edges'], edges.map((n) => `${String(n)} `).join(''))
  assert.equal(seen['x-read'], `<${long}> found absent`)
  assert.equal(seen['x-read-length'], String(long.length + 2))
  assert.equal(seen['x-equals'], '10')
  assert.equal(seen['x-sha'], createHash('sha256').update('héllo').digest('hex'))
  assert.equal(seen['x-utf8'], '6 round-trips')
  assert.match(seen['x-uuid'], /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/)
  assert.equal(seen['x-count'], '3,3', 'incrBytes and incr address the same key')
  assert.equal(seen['x-moved'], 'yes')
  assert.equal(res.json().url, '/new/a?x=1', 'the prefix is replaced, the rest and the query kept')
  assert.equal(res.headers['x-added'], 'from-request')
  assert.equal(res.headers['x-echo'], long, 'the response phase reads the request header into the buffer')
  assert.equal(res.headers['x-route-copy'], 'route=r1')

  const other = await fastify.inject({ url: '/older/b' })
  assert.equal(other.json().headers['x-read'], '<> absent absent')
  assert.equal(other.json().headers['x-equals'], '11')
  assert.equal(other.json().headers['x-moved'], 'no')
  assert.equal(other.json().url, '/older/b')
  assert.equal(other.json().headers['x-count'], '6,6')
  assert.equal(other.headers['x-echo'], undefined)
  const uuids = new Set([seen['x-uuid'], other.json().headers['x-uuid']])
  assert.equal(uuids.size, 2)
})
