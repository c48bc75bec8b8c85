#!/usr/bin/env node
// The example chain and three header filters in a loop, with and without touching POLLUTE_MB
// (default 1) of other memory between requests, the way a server runs Node's HTTP code between
// two requests. Shows how much of a filter's cost in a server is its code and memory being
// cold in the CPU's caches, which a tight loop (micro/chain.mjs) never sees. Only the chain
// call is timed, not the memory walk.
//
//   cd benchmarks && taskset -c 1 node micro/cold-cache.mjs
import { join, dirname } from 'node:path'
import { fileURLToPath } from 'node:url'
import { pino } from 'pino'
import { createWafer, Exchange } from '@wafer/core'

const root = join(dirname(fileURLToPath(import.meta.url)), '../..')
const example = (n) => join(root, 'examples/filters', n, 'build', `${n}.wasm`)
const logger = pino({ level: 'silent' })
const header = (i) => ({ module: example('rewrite'), config: { setHeaders: { [`x-h${i}`]: '1' } } })
const w = await createWafer({
  logger,
  filters: {
    auth: { module: example('auth'), config: { mode: 'api-key', header: 'x-api-key', keys: ['bench-key'], subjects: ['bench'] } },
    rewrite: { module: example('rewrite'), config: { prefix: { from: '/api/', to: '/v2/' }, setHeaders: { 'x-gateway': 'wafer' } } },
    'rate-limit': { module: example('rate-limit'), config: { algorithm: 'fixed-window', limit: 1e9, windowMs: 60000, key: 'header:x-auth-subject' } },
    h0: header(0),
    h1: header(1),
    h2: header(2)
  }
})
const chains = { 'example chain': w.compose(['auth', 'rewrite', 'rate-limit']), 'three header filters': w.compose(['h0', 'h1', 'h2']) }
const other = new Uint8Array(Number(process.env.POLLUTE_MB ?? 1) << 20)
let sink = 0
function touchOtherMemory () {
  for (let i = 0; i < other.length; i += 64) sink += other[i]++
}
let n = 0
function request (chain) {
  const ex = new Exchange({ id: String(++n), method: 'GET', url: '/api/items', headers: { host: '127.0.0.1:3000', 'x-api-key': 'bench-key', accept: 'application/json' }, remoteAddress: '127.0.0.1', log: logger })
  chain.runRequest(ex)
  chain.finish(ex)
}
function timed (chain, cold, count) {
  let total = 0n
  for (let i = 0; i < count; i++) {
    if (cold) touchOtherMemory()
    const start = process.hrtime.bigint()
    request(chain)
    total += process.hrtime.bigint() - start
  }
  return Number(total) / count / 1000
}
for (const chain of Object.values(chains)) timed(chain, false, 20000) // warm-up
const rows = Object.keys(chains).map((name) => ({ name, warm: [], cold: [] }))
for (let round = 0; round < 5; round++) {
  Object.values(chains).forEach((chain, i) => {
    rows[i].warm.push(timed(chain, false, 20000))
    rows[i].cold.push(timed(chain, true, 3000))
  })
}
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]
console.log(`| chain | µs/request, warm | with ${other.length >> 20} MB touched between requests | ratio |\n| --- | ---: | ---: | ---: |`)
for (const r of rows) console.log(`| ${r.name} | ${median(r.warm).toFixed(2)} | ${median(r.cold).toFixed(2)} | ${(median(r.cold) / median(r.warm)).toFixed(2)}x |`)
await w.close()
if (sink === -1) console.log(sink)
