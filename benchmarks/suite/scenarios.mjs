// The servers the suite measures, one per scenario. Each is started by server.mjs in its own
// process, pinned to its own core, and answers the same request shape:
//   GET /api/items   with   x-api-key: bench-key
// (POST with a ~1 KB JSON body for the body scenario).
import { join } from 'node:path'
import Fastify from 'fastify'
import rateLimit from '@fastify/rate-limit'
import wafer from '@wafer/fastify'

export const root = new URL('../..', import.meta.url).pathname
const example = (n) => join(root, 'examples/filters', n, 'build', `${n}.wasm`)
const fixture = (n) => join(root, 'test/fixtures/build', `${n}.wasm`)

// Limits high enough never to answer 429: the suite measures the cost of counting, not of refusing.
const LIMIT = 1_000_000_000
const KEY = 'bench-key'

export const exampleFilters = {
  auth: { module: example('auth'), config: { mode: 'api-key', header: 'x-api-key', keys: [KEY], subjects: ['bench'] } },
  rewrite: { module: example('rewrite'), config: { prefix: { from: '/api/', to: '/v2/' }, setHeaders: { 'x-gateway': 'wafer' } } },
  'rate-limit': { module: example('rate-limit'), config: { algorithm: 'fixed-window', limit: LIMIT, windowMs: 60000, key: 'header:x-auth-subject' } }
}

/** N header-only filters that each set one request header (a patch, as real filters make). */
function headerFilters (n) {
  const filters = {}
  for (let i = 0; i < n; i++) filters[`h${i}`] = { module: example('rewrite'), config: { setHeaders: { [`x-h${i}`]: '1' } } }
  return filters
}

const reply = { items: [{ id: 1, name: 'a' }, { id: 2, name: 'b' }] }

function app () {
  return Fastify({ logger: false })
}

async function withChain (filters, chain) {
  const f = app()
  await f.register(wafer, { filters, chain })
  f.get('/*', async () => reply)
  f.post('/*', postRoute)
  return f
}

async function postRoute (req) {
  return { size: JSON.stringify(req.body).length }
}

/** Scenario name -> a function building the Fastify app (upstream: the echo service URL). */
export const scenarios = {
  bare: async () => {
    const f = app()
    f.get('/*', async () => reply)
    return f
  },
  // The body scenario's route without Wafer: Fastify parsing and the route re-encoding a 1 KB
  // JSON body cost more than the whole GET, so wasm-body-1kb is also compared with this.
  'bare-body-1kb': async () => {
    const f = app()
    f.post('/*', postRoute)
    return f
  },
  // The hand-written equivalent of the example chain: API-key check, header + path rewrite,
  // @fastify/rate-limit with its in-memory store, keyed the same way.
  'js-chain': async () => {
    const f = app()
    const keys = new Set([KEY])
    f.addHook('onRequest', async (req, reply) => {
      const key = req.headers['x-api-key']
      if (typeof key !== 'string' || !keys.has(key)) return reply.code(401).header('www-authenticate', 'ApiKey').send({ error: 'invalid api key' })
      delete req.headers['x-api-key']
      req.headers['x-auth-subject'] = 'bench'
    })
    f.addHook('onRequest', async (req) => {
      req.headers['x-gateway'] = 'wafer'
      if (req.raw.url.startsWith('/api/')) req.raw.url = '/v2/' + req.raw.url.slice(5)
    })
    await f.register(rateLimit, { max: LIMIT, timeWindow: 60000, keyGenerator: (req) => req.headers['x-auth-subject'] ?? req.ip })
    f.get('/*', async () => reply)
    return f
  },
  // The floor of wasm-noop: the two route hooks Wafer adds to a GET route (onRequest, onSend),
  // doing nothing. What any filter chain on this route costs before its first filter runs.
  'fastify-hooks': async () => {
    const f = app()
    f.get('/*', {
      onRequest: (req, reply, done) => done(),
      onSend: (req, reply, payload, done) => done(null, payload)
    }, async () => reply)
    return f
  },
  // The floor of wasm-example-chain: the same two hooks, and the reply carries the three headers
  // the chain's rate-limit filter adds, put on it in onRequest as Wafer does. What the example
  // chain would cost if its filters took no time at all.
  'chain-floor': async () => {
    const f = app()
    f.get('/*', {
      onRequest: (req, reply, done) => {
        reply.headers({ 'ratelimit-limit': '1000000000', 'ratelimit-remaining': '999999999', 'ratelimit-reset': '60' })
        done()
      },
      onSend: (req, reply, payload, done) => done(null, payload)
    }, async () => reply)
    return f
  },
  // Calibration, not in the default run: a hook that burns SPIN_US µs of CPU (default 10), to
  // see what a known per-request cost does to req/s and to the server's system time here.
  'fastify-spin': async () => {
    const f = app()
    const us = Number(process.env.SPIN_US ?? 10)
    f.addHook('onRequest', (req, reply, done) => {
      const end = process.hrtime.bigint() + BigInt(us * 1000)
      while (process.hrtime.bigint() < end);
      done()
    })
    f.get('/*', async () => reply)
    return f
  },
  'wasm-noop': () => withChain({ n: { module: fixture('noop') } }, ['n']),
  'wasm-noop-unmetered': () => withChain({ n: { module: fixture('noop'), limits: { fuel: false } } }, ['n']),
  'wasm-1': () => withChain(headerFilters(1), ['h0']),
  'wasm-3': () => withChain(headerFilters(3), ['h0', 'h1', 'h2']),
  'wasm-10': () => withChain(headerFilters(10), Array.from({ length: 10 }, (_, i) => `h${i}`)),
  'wasm-example-chain': () => withChain(exampleFilters, ['auth', 'rewrite', 'rate-limit']),
  // One common real filter with a response phase: keeps or adds x-request-id and echoes it back.
  'wasm-request-id': () => withChain({ rid: { module: example('request-id') } }, ['rid']),
  // Issue 14: one lean Proxy-Wasm filter (reads a header, adds one) on the published
  // AssemblyScript SDK (@gcoredev/proxy-wasm-sdk-as).
  'proxy-wasm-lean': () => withChain({ lean: { module: fixture('proxy-sdk-lean') } }, ['lean']),
  'wasm-body-1kb': () => withChain({ body: { module: fixture('body-upper') } }, ['body']),
  gateway: async (upstream) => gateway(upstream, []),
  'gateway-example-chain': async (upstream) => gateway(upstream, ['auth', 'rewrite', 'rate-limit'])
}

async function gateway (upstream, chain) {
  const f = app()
  await f.register(wafer, {
    config: {
      filters: exampleFilters,
      routes: [{ match: { path: '/' }, chain, upstream, timeoutMs: 10000 }]
    }
  })
  return f
}

/** A ~1 KB JSON body for the body scenario. */
export const body1kb = JSON.stringify({ items: Array.from({ length: 20 }, (_, i) => ({ id: i, name: `item-${i}`, tags: ['a', 'b'] })) })
export const headers = { 'x-api-key': KEY, 'user-agent': 'autocannon', accept: 'application/json' }
