#!/usr/bin/env node
// How long the example chain's request phase takes inside a live Fastify server under load,
// timed around Chain#runRequest with hrtime (no profiler), to compare with the same chain in
// a tight loop (micro/chain.mjs). This process is the server, pinned to core 0; autocannon runs
// in a child process pinned to core 1.
//
//   cd benchmarks && node suite/chain-time.mjs [seconds]
import { spawn, spawnSync } from 'node:child_process'
import Fastify from 'fastify'
import wafer from '@wafer/fastify'
import { Chain } from '@wafer/core'
import { exampleFilters } from './scenarios.mjs'

const seconds = Number(process.argv[2] ?? 8)
const pin = spawnSync('taskset', ['-c', '0', 'true']).status === 0
if (pin) spawnSync('taskset', ['-cp', '0', String(process.pid)])

let total = 0n
let calls = 0
const runRequest = Chain.prototype.runRequest
// Times the first (header-only) segment of every request; the example chain has no body filter.
Chain.prototype.runRequest = function timed (ex, from = 0, to) {
  if (from !== 0) return runRequest.call(this, ex, from, to)
  const start = process.hrtime.bigint()
  const result = runRequest.call(this, ex, from, to)
  total += process.hrtime.bigint() - start
  calls++
  return result
}

const app = Fastify({ logger: false })
await app.register(wafer, { filters: exampleFilters, chain: ['auth', 'rewrite', 'rate-limit'] })
app.get('/*', async () => ({ items: [{ id: 1, name: 'a' }, { id: 2, name: 'b' }] }))
const url = await app.listen({ port: 0, host: '127.0.0.1' })

function load (duration) {
  const script = `require('autocannon')({ url: '${url}/api/items', connections: 32, duration: ${duration}, ` +
    `headers: { 'x-api-key': 'bench-key', 'user-agent': 'autocannon', accept: 'application/json' } }, ` +
    '(err, r) => { if (err) throw err; console.log(JSON.stringify({ rps: r.requests.average, bad: r.non2xx + r.errors })) })'
  const args = ['-e', script]
  const child = pin ? spawn('taskset', ['-c', '1', process.execPath, ...args], { stdio: ['ignore', 'pipe', 'inherit'] }) : spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'] })
  let out = ''
  child.stdout.on('data', (d) => { out += d })
  return new Promise((resolve, reject) => child.once('exit', (code) => code === 0 ? resolve(JSON.parse(out)) : reject(new Error(`autocannon exited with ${code}`))))
}

await load(2) // warm-up: JIT, pools
total = 0n
calls = 0
const r = await load(seconds)
await app.close()
console.log(`example chain request phase inside the server: ${(Number(total) / calls / 1000).toFixed(1)} µs per request ` +
  `over ${calls} requests (${Math.round(r.rps)} req/s, ${r.bad} non-2xx or errors)`)
