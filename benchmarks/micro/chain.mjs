#!/usr/bin/env node
// Wafer's own cost for one request through the 3-filter example chain (auth -> rewrite ->
// rate-limit, in-memory store), without HTTP: a new Exchange with the headers autocannon sends,
// the request phase, a 200 reply with Fastify's headers, the response phase. This is the part of
// the suite's wasm-example-chain scenario that Wafer owns; the rest is Fastify and the socket.
//
//   cd benchmarks && taskset -c 1 node micro/chain.mjs
//   node --cpu-prof micro/chain.mjs    (profile it)
import { join, dirname } from 'node:path'
import { fileURLToPath } from 'node:url'
import { pino } from 'pino'
import { createWafer, Exchange } from '@wafer/core'

const root = join(dirname(fileURLToPath(import.meta.url)), '../..')
const example = (n) => process.env.NAMED ? `/tmp/named/${n}.wasm` : join(root, 'examples/filters', n, 'build', `${n}.wasm`)
const ROUNDS = Number(process.env.ROUNDS ?? 7)
const ITERATIONS = Number(process.env.ITERATIONS ?? 50_000)
const logger = pino({ level: 'silent' })

const wafer = await createWafer({
  logger,
  filters: {
    auth: { module: example('auth'), config: { mode: 'api-key', header: 'x-api-key', keys: ['bench-key'], subjects: ['bench'] } },
    rewrite: { module: example('rewrite'), config: { prefix: { from: '/api/', to: '/v2/' }, setHeaders: { 'x-gateway': 'wafer' } } },
    'rate-limit': { module: example('rate-limit'), config: { algorithm: 'fixed-window', limit: 1e9, windowMs: 60000, key: 'header:x-auth-subject' } }
  }
})
const chain = wafer.compose(['auth', 'rewrite', 'rate-limit'])

let n = 0
function request () {
  const ex = new Exchange({
    id: `req-${++n}`,
    method: 'GET',
    url: '/api/items',
    headers: { host: '127.0.0.1:3000', 'x-api-key': 'bench-key', 'user-agent': 'autocannon', accept: 'application/json' },
    remoteAddress: '127.0.0.1',
    log: logger
  })
  const d = chain.runRequest(ex)
  if (d instanceof Promise || d.respond) throw new Error('the example chain must continue synchronously')
  if (chain.responsePhaseFor(ex.reached) === 'none') return ex
  ex.response = { status: 200, headers: { 'content-type': 'application/json; charset=utf-8', 'content-length': '42' }, body: undefined, changed: false, bodyChanged: false }
  const r = chain.runResponse(ex)
  if (r instanceof Promise) throw new Error('the response phase must be synchronous')
  return ex
}

function measure () {
  const start = process.hrtime.bigint()
  for (let i = 0; i < ITERATIONS; i++) request()
  return Number(process.hrtime.bigint() - start) / ITERATIONS / 1000
}

const check = request()
console.log('route sees:', check.url, JSON.stringify(check.headers), '-> reply gets', JSON.stringify(check.response?.headers ?? check.responseHeaders))
for (let i = 0; i < ITERATIONS / 2; i++) request()
const rounds = []
for (let r = 0; r < ROUNDS; r++) rounds.push(measure())
rounds.sort((a, b) => a - b)
console.log(`example chain, one request through both phases: median ${rounds[ROUNDS >> 1].toFixed(2)} µs (min ${rounds[0].toFixed(2)}, max ${rounds[ROUNDS - 1].toFixed(2)}) over ${ROUNDS} rounds of ${ITERATIONS}`)
await wafer.close()
