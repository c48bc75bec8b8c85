// The example filters, each through the Fastify plugin: the behaviour a user relies on.
import assert from 'node:assert/strict'
import { createHmac } from 'node:crypto'
import { test } from 'node:test'
import Fastify from 'fastify'
import wafer from '@wafer/fastify'
import { exampleFilter, silent } from '../support/index.ts'

async function app (filters: Record<string, { module: string, config?: unknown }>, chain: string[]) {
  const fastify = Fastify({ loggerInstance: silent })
  await fastify.register(wafer, { filters, chain })
  fastify.all('/*', async (req) => ({ url: req.url, headers: req.headers }))
  return fastify
}

const SECRET = 'test-secret-0123456789'
const b64url = (v: string | Buffer) => Buffer.from(v).toString('base64url')
function jwt (claims: Record<string, unknown>, options: { secret?: string, alg?: string } = {}): string {
  const head = b64url(JSON.stringify({ alg: options.alg ?? 'HS256', typ: 'JWT' }))
  const body = b64url(JSON.stringify(claims))
  const sig = createHmac('sha256', options.secret ?? SECRET).update(`${head}.${body}`).digest('base64url')
  return `${head}.${body}.${sig}`
}
const now = () => Math.floor(Date.now() / 1000)

test('auth (jwt): a valid HS256 token passes with its subject; the credential is removed', async (t) => {
  const fastify = await app({ auth: { module: exampleFilter('auth'), config: { mode: 'jwt', secret: SECRET, issuer: 'wafer-tests', audience: 'api' } } }, ['auth'])
  t.after(() => fastify.close())
  const token = jwt({ sub: 'alice', iss: 'wafer-tests', aud: 'api', exp: now() + 60 })
  const res = await fastify.inject({ url: '/x', headers: { authorization: `Bearer ${token}` } })
  assert.equal(res.statusCode, 200)
  assert.equal(res.json().headers['x-auth-subject'], 'alice')
  assert.equal(res.json().headers.authorization, undefined)
})

test('auth (jwt): expired, not yet valid, wrong signature, wrong alg, wrong issuer or audience, malformed: 401', async (t) => {
  const fastify = await app({ auth: { module: exampleFilter('auth'), config: { mode: 'jwt', secret: SECRET, issuer: 'wafer-tests', audience: 'api' } } }, ['auth'])
  t.after(() => fastify.close())
  const good = { sub: 'alice', iss: 'wafer-tests', aud: 'api', exp: now() + 60 }
  const bad: Array<[string, string | undefined]> = [
    ['expired', `Bearer ${jwt({ ...good, exp: now() - 120 })}`],
    ['not yet valid', `Bearer ${jwt({ ...good, nbf: now() + 120 })}`],
    ['wrong signature', `Bearer ${jwt(good, { secret: 'another-secret' })}`],
    ['alg none', `Bearer ${jwt(good, { alg: 'none' })}`],
    ['alg HS512', `Bearer ${jwt(good, { alg: 'HS512' })}`],
    ['wrong issuer', `Bearer ${jwt({ ...good, iss: 'evil' })}`],
    ['wrong audience', `Bearer ${jwt({ ...good, aud: 'other' })}`],
    ['tampered payload', `Bearer ${jwt(good).replace(/\.[^.]+\./, `.${b64url(JSON.stringify({ ...good, sub: 'root' }))}.`)}`],
    ['malformed', 'Bearer not.a.jwt'],
    ['not bearer', `Basic ${b64url('a:b')}`],
    ['missing', undefined]
  ]
  for (const [what, authorization] of bad) {
    const res = await fastify.inject({ url: '/x', headers: authorization === undefined ? {} : { authorization } })
    assert.equal(res.statusCode, 401, what)
    assert.match(String(res.headers['www-authenticate']), /^Bearer/, what)
    assert.equal(typeof res.json().error, 'string', what)
  }
})

test('auth (api-key): each key authenticates as its subject; near misses, prefixes, extensions and long keys are refused', async (t) => {
  // Keys of different lengths, one a prefix of another, and one longer than the 128-byte slot
  // every key is padded to (the slots then widen to it).
  const long = 'L'.repeat(150)
  const keys = ['k1', 'k1-longer', 'a-key-of-exactly-sixteen', long, 'ünïcode-kéy']
  const subjects = ['one', 'two', 'three', 'four', 'five']
  const fastify = await app({ auth: { module: exampleFilter('auth'), config: { mode: 'api-key', keys, subjects } } }, ['auth'])
  t.after(() => fastify.close())
  const send = (key: string | Buffer) => fastify.inject({ url: '/x', headers: { 'x-api-key': key as string } })
  for (const [i, key] of keys.entries()) {
    // The non-ASCII key is sent as its UTF-8 bytes, which the filter compares.
    const res = await send(/[^\x00-\x7f]/.test(key) ? Buffer.from(key, 'utf8').toString('latin1') : key)
    assert.equal(res.statusCode, 200, `key ${i}`)
    assert.equal(res.json().headers['x-auth-subject'], subjects[i], `key ${i}`)
    assert.equal(res.json().headers['x-api-key'], undefined, `key ${i}: the credential is removed`)
  }
  // Same length as a key, one byte off: at the start, in the middle, at the end, past 128 bytes.
  const oneOff = (key: string, at: number) => `${key.slice(0, at)}${key[at] === 'x' ? 'y' : 'x'}${key.slice(at + 1)}`
  const refused = ['k', 'k2', 'k1-longe', 'k1-longerx', 'K1', 'k1 ', `${long}L`, long.slice(1), 'L'.repeat(128), 'x'.repeat(4000), 'ünïcode-kéy',
    oneOff(keys[1] as string, 0), oneOff(keys[1] as string, 8), oneOff(keys[2] as string, 9), oneOff(keys[2] as string, 23), oneOff(long, 127), oneOff(long, 140), oneOff(long, 149)]
  for (const key of refused) {
    const res = await send(key)
    assert.equal(res.statusCode, 401, `${key.slice(0, 20)} (${key.length})`)
    assert.equal(res.json().error, 'invalid api key')
    assert.equal(res.headers['www-authenticate'], 'ApiKey')
  }
  const missing = await fastify.inject({ url: '/x' })
  assert.equal(missing.statusCode, 401)
  assert.equal(missing.json().error, 'missing api key')
})

test('auth: configs it cannot use are rejected at startup with the field named', async () => {
  const cases: Array<[unknown, RegExp]> = [
    [{ mode: 'api-key', keys: [] }, /"keys"/],
    [{ mode: 'jwt' }, /"secret"/],
    [{ mode: 'oauth' }, /"mode"/],
    [{ mode: 'api-key', keys: ['k'], extra: 1 }, /extra/]
  ]
  for (const [config, message] of cases) {
    const fastify = Fastify()
    await assert.rejects(async () => { await fastify.register(wafer, { filters: { auth: { module: exampleFilter('auth'), config } } }).ready() }, (err: Error & { code: string }) => {
      assert.equal(err.code, 'WAFER_ERR_FILTER_CONFIG')
      assert.match(err.message, message)
      return true
    })
  }
})

test('rewrite: path prefix, request headers set and removed, response headers', async (t) => {
  const fastify = await app({
    rewrite: {
      module: exampleFilter('rewrite'),
      config: { prefix: { from: '/api/', to: '/v2/' }, setHeaders: { 'x-gateway': 'wafer' }, removeHeaders: ['x-internal'], responseHeaders: { set: { 'x-served-by': 'wafer' }, remove: ['x-powered-by'] } }
    }
  }, ['rewrite'])
  t.after(() => fastify.close())
  fastify.get('/powered', async (req, reply) => { reply.header('x-powered-by', 'php'); return 'x' })
  const res = await fastify.inject({ url: '/api/users/7?full=1', headers: { 'x-internal': 'secret' } })
  assert.equal(res.json().url, '/v2/users/7?full=1')
  assert.equal(res.json().headers['x-gateway'], 'wafer')
  assert.equal(res.json().headers['x-internal'], undefined)
  assert.equal(res.headers['x-served-by'], 'wafer')
  assert.equal((await fastify.inject('/other')).json().url, '/other', 'paths outside the prefix are left alone')
  assert.equal((await fastify.inject('/powered')).headers['x-powered-by'], undefined)
})

test('request-id: adds a UUID v4 when absent, keeps the client\'s, echoes it on the response', async (t) => {
  const fastify = await app({ rid: { module: exampleFilter('request-id') } }, ['rid'])
  t.after(() => fastify.close())
  const a = await fastify.inject('/x')
  const b = await fastify.inject('/x')
  const id = a.json().headers['x-request-id']
  assert.match(id, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/)
  assert.notEqual(b.json().headers['x-request-id'], id)
  assert.equal(a.headers['x-request-id'], id)
  const mine = await fastify.inject({ url: '/x', headers: { 'x-request-id': 'client-7' } })
  assert.equal(mine.json().headers['x-request-id'], 'client-7')
  assert.equal(mine.headers['x-request-id'], 'client-7')
})

test('rate-limit (fixed window, by client address): limit per window, 429 with Retry-After and RateLimit-*', async (t) => {
  const fastify = await app({ rl: { module: exampleFilter('rate-limit'), config: { algorithm: 'fixed-window', limit: 2, windowMs: 30_000, key: 'ip' } } }, ['rl'])
  t.after(() => fastify.close())
  const first = await fastify.inject('/x')
  assert.equal(first.statusCode, 200)
  assert.equal(first.headers['ratelimit-limit'], '2')
  assert.equal(first.headers['ratelimit-remaining'], '1')
  const reset = Number(first.headers['ratelimit-reset'])
  assert.ok(reset >= 29 && reset <= 30, `ratelimit-reset ${reset}`)
  assert.equal((await fastify.inject('/x')).statusCode, 200)
  const denied = await fastify.inject('/x')
  assert.equal(denied.statusCode, 429)
  assert.ok(Number(denied.headers['retry-after']) >= 1)
  assert.equal(denied.headers['ratelimit-remaining'], '0')
  const other = await fastify.inject({ url: '/x', remoteAddress: '10.9.9.9' })
  assert.equal(other.statusCode, 200, 'another client has its own window')
})

test('rate-limit (token bucket): a burst, then one request per refill interval', async (t) => {
  const fastify = await app({ rl: { module: exampleFilter('rate-limit'), config: { algorithm: 'token-bucket', burst: 3, refillPerSecond: 1, key: 'header:x-user' } } }, ['rl'])
  t.after(() => fastify.close())
  const hit = async () => (await fastify.inject({ url: '/x', headers: { 'x-user': 'u1' } })).statusCode
  assert.deepEqual([await hit(), await hit(), await hit(), await hit()], [200, 200, 200, 429])
  assert.equal((await fastify.inject({ url: '/x', headers: { 'x-user': 'u2' } })).statusCode, 200)
})

test('rate-limit (fixed window, by header): one counter per client id, long and non-ASCII ids hashed apart', async (t) => {
  const fastify = await app({ rl: { module: exampleFilter('rate-limit'), config: { algorithm: 'fixed-window', limit: 1, windowMs: 30_000, key: 'header:x-user' } } }, ['rl'])
  t.after(() => fastify.close())
  const status = async (user?: string) => (await fastify.inject({ url: '/x', headers: user === undefined ? {} : { 'x-user': user } })).statusCode
  const long = 'u'.repeat(300)
  // Ids that differ only past the 256th byte, or only in a byte above 0x7f, stay apart.
  for (const [a, b] of [['a', 'b'], [`${long}1`, `${long}2`], ['caf\u00e9', 'caf\u00e8']] as const) {
    assert.deepEqual([await status(a), await status(a), await status(b)], [200, 429, 200], `${a.slice(0, 8)} vs ${b.slice(0, 8)}`)
  }
  assert.deepEqual([await status(), await status()], [200, 429], 'without the header: the client address')
})

test('rate-limit: a bad config is rejected naming the field', async () => {
  const fastify = Fastify()
  await assert.rejects(async () => { await fastify.register(wafer, { filters: { rl: { module: exampleFilter('rate-limit'), config: { limit: 0 } } } }).ready() }, {
    code: 'WAFER_ERR_FILTER_CONFIG', message: /"limit"/
  })
})
