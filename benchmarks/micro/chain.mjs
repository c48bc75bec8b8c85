#!/usr/bin/env node
// Wafer's own cost for one request through the 3-filter example chain (auth -> rewrite ->
// rate-limit, in-memory store), without HTTP: a new Exchange with the headers autocannon sends,
// the request phase, and the response phase when the chain has one. This is the part of the
// suite's wasm-example-chain scenario that the runtime owns; the rest is Fastify, the plugin's
// hooks and the socket. Metered (the default) and unmetered chains alternate in each round.
//
//   cd benchmarks && taskset -c 1 node micro/chain.mjs [--write]
//   node --cpu-prof micro/chain.mjs    (profile it)
import { readFileSync, writeFileSync } from 'node:fs'
import { cpus } from 'node:os'
import { join, dirname } from 'node:path'
import { fileURLToPath } from 'node:url'
import { pino } from 'pino'
import { createWafer, Exchange } from '@wafer/core'

const root = join(dirname(fileURLToPath(import.meta.url)), '../..')
const example = (n) => join(root, 'examples/filters', n, 'build', `${n}.wasm`)
const ROUNDS = Number(process.env.ROUNDS ?? 7)
const ITERATIONS = Number(process.env.ITERATIONS ?? 50_000)
const logger = pino({ level: 'silent' })

function exampleFilters (limits) {
  return {
    auth: { module: example('auth'), limits, config: { mode: 'api-key', header: 'x-api-key', keys: ['bench-key'], subjects: ['bench'] } },
    rewrite: { module: example('rewrite'), limits, config: { prefix: { from: '/api/', to: '/v2/' }, setHeaders: { 'x-gateway': 'wafer' } } },
    'rate-limit': { module: example('rate-limit'), limits, config: { algorithm: 'fixed-window', limit: 1e9, windowMs: 60000, key: 'header:x-auth-subject' } }
  }
}

let n = 0
function request (chain) {
  const ex = new Exchange({
    id: String(++n),
    method: 'GET',
    url: '/api/items',
    headers: { host: '127.0.0.1:3000', 'x-api-key': 'bench-key', 'user-agent': 'autocannon', accept: 'application/json' },
    remoteAddress: '127.0.0.1',
    log: logger
  })
  const d = chain.runRequest(ex)
  if (d instanceof Promise || d.respond) throw new Error('the example chain must continue synchronously')
  if (chain.responsePhaseFor(ex.reached) === 'none') {
    chain.finish(ex)
    return ex
  }
  ex.response = { status: 200, headers: { 'content-type': 'application/json; charset=utf-8', 'content-length': '42' }, body: undefined, changed: false, bodyChanged: false }
  if (chain.runResponse(ex) instanceof Promise) throw new Error('the response phase must be synchronous')
  chain.finish(ex)
  return ex
}

function measure (fn) {
  const start = process.hrtime.bigint()
  for (let i = 0; i < ITERATIONS; i++) fn()
  return Number(process.hrtime.bigint() - start) / ITERATIONS / 1000
}

const metered = await createWafer({ logger, filters: exampleFilters(undefined) })
const unmetered = await createWafer({ logger, filters: exampleFilters({ fuel: false }) })
// Issue 14's lean Proxy-Wasm filter (reads a header, adds one; the published AssemblyScript
// SDK): a whole request is its stream context's creation, the headers callback and done.
const proxyLean = await createWafer({ logger, filters: { lean: { module: join(root, 'test/fixtures/build/proxy-sdk-lean.wasm') } } })
const names = ['auth', 'rewrite', 'rate-limit']
const noFilter = { runRequest: () => ({ respond: false }), responsePhaseFor: () => 'none', finish: () => {} }
const cases = [
  ['example chain, one request (fuel metering on, the default)', metered.compose(names)],
  ['  the same, unmetered (limits.fuel: false)', unmetered.compose(names)],
  ...names.map((name) => [`  ${name} alone (metered)`, metered.compose([name])]),
  ['Proxy-Wasm lean filter alone (AssemblyScript SDK; reads a header, adds one), metered', proxyLean.compose(['lean'])],
  ['  new Exchange, no filter', noFilter]
]
const check = request(cases[0][1])
console.log('the route sees', check.url, JSON.stringify(check.headers), '\nthe reply gets', JSON.stringify(check.responseHeaders ?? {}))
for (const [, chain] of cases) for (let i = 0; i < ITERATIONS / 2; i++) request(chain)
const results = cases.map(() => [])
for (let r = 0; r < ROUNDS; r++) cases.forEach(([, chain], i) => results[i].push(measure(() => request(chain))))
await Promise.all([metered.close(), unmetered.close(), proxyLean.close()])

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]
const table = [
  '| case | median µs/request | min | max |',
  '| --- | ---: | ---: | ---: |',
  ...cases.map(([label], i) => `| ${label} | ${median(results[i]).toFixed(1)} | ${Math.min(...results[i]).toFixed(1)} | ${Math.max(...results[i]).toFixed(1)} |`)
].join('\n')
const machine = `${cpus()[0]?.model ?? 'unknown CPU'}, ${cpus().length} cores, Node ${process.version}`
console.log(`\n${ROUNDS} interleaved rounds of ${ITERATIONS} requests; ${machine}\n\n${table}`)

if (process.argv.includes('--write')) {
  const file = join(root, 'docs/benchmarks.md')
  const doc = readFileSync(file, 'utf8')
  const section = `<!-- chain:start -->\nMeasured ${new Date().toISOString().slice(0, 10)} on ${machine}; median of ${ROUNDS} interleaved rounds of ${ITERATIONS} requests after warm-up.\n\n${table}\n<!-- chain:end -->`
  const next = doc.replace(/<!-- chain:start -->[\s\S]*<!-- chain:end -->/, section)
  if (next === doc && !doc.includes(section)) throw new Error('docs/benchmarks.md has no <!-- chain:start --> ... <!-- chain:end --> section')
  writeFileSync(file, next)
  console.log(`\nwrote ${file}`)
}
