#!/usr/bin/env node
// Per-filter call overhead, ns per call after warm-up, beside a bare export call that moves the
// same ~350 bytes in and out. Each case runs in ROUNDS interleaved rounds; the median is
// reported. Pin it to one core for steadier numbers: `taskset -c 1 node micro/filter-call.mjs`.
//
//   node micro/filter-call.mjs           print the table
//   node micro/filter-call.mjs --write   also rewrite the micro section of docs/benchmarks.md
import { readFileSync, writeFileSync, existsSync } from 'node:fs'
import { cpus } from 'node:os'
import { join, dirname } from 'node:path'
import { fileURLToPath } from 'node:url'
import { pino } from 'pino'
import { createWafer, Exchange } from '@wafer/core'

const root = join(dirname(fileURLToPath(import.meta.url)), '../..')
const fixture = (n) => join(root, 'test/fixtures/build', `${n}.wasm`)
const example = (n) => join(root, 'examples/filters', n, 'build', `${n}.wasm`)
const ROUNDS = Number(process.env.ROUNDS ?? 7)
const ITERATIONS = Number(process.env.ITERATIONS ?? 200_000)
const logger = pino({ level: 'silent' })

// A realistic header set: ~350 bytes of request JSON, as a browser or curl sends.
const headers = () => ({
  host: 'api.example.com',
  'user-agent': 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0',
  accept: 'application/json',
  'accept-encoding': 'gzip, deflate, br',
  'x-api-key': 'k1-test-key',
  'x-forwarded-for': '203.0.113.9'
})
const newExchange = () => new Exchange({ id: 'req-1', method: 'GET', url: '/api/items?page=2', headers: headers(), remoteAddress: '127.0.0.1', log: logger })

function measure (fn) {
  for (let i = 0; i < ITERATIONS / 4; i++) fn()
  const start = process.hrtime.bigint()
  for (let i = 0; i < ITERATIONS; i++) fn()
  return Number(process.hrtime.bigint() - start) / ITERATIONS
}

async function cases () {
  // The bytes v1 used to copy per call: the request as JSON, for the bare-call baseline.
  const input = Buffer.from(JSON.stringify({ id: 'req-1', method: 'GET', path: '/api/items', query: 'page=2', remoteAddress: '127.0.0.1', headers: headers() }))
  const bare = new WebAssembly.Instance(new WebAssembly.Module(readFileSync(fixture('bare-copy'))))
  const mem = new Uint8Array(bare.exports.memory.buffer)
  const out = Buffer.alloc(input.length)
  const copy = bare.exports.copy

  // Metering (limits.fuel) is on by default; the "unmetered" rows turn it off to show its cost.
  const filters = {
    noop: { module: fixture('noop') },
    'noop-unmetered': { module: fixture('noop'), limits: { fuel: false } },
    stamp: { module: fixture('stamp') },
    'read-set': { module: fixture('read-set') },
    'read-set-unmetered': { module: fixture('read-set'), limits: { fuel: false } }
  }
  if (existsSync(example('request-id'))) {
    filters['request-id'] = { module: example('request-id') }
    filters['request-id-unmetered'] = { module: example('request-id'), limits: { fuel: false } }
    filters.auth = { module: example('auth'), config: { mode: 'api-key', header: 'x-api-key', keys: ['k1-test-key'] } }
    filters.rewrite = { module: example('rewrite'), config: { prefix: { from: '/api/', to: '/v2/' } } }
  }
  const wafer = await createWafer({ logger, filters })
  const noop = wafer.filter('noop')
  const cached = newExchange()

  const list = [
    ['bare export call, ~350 B in and out (baseline)', () => {
      mem.set(input, 4096)
      const n = copy(4096, input.length)
      out.set(mem.subarray(8192, 8192 + n))
    }],
    ['a filter that does nothing (noop.wat): Filter.request', () => noop.request(cached)],
    ['  the same, unmetered (limits.fuel: false)', () => wafer.filter('noop-unmetered').request(cached)],
    ['reads one header, sets one (read-set.wat), metered', () => wafer.filter('read-set').request(cached)],
    ['  the same, unmetered (limits.fuel: false)', () => wafer.filter('read-set-unmetered').request(cached)]
  ]
  if (filters.auth) {
    const rid = wafer.filter('request-id')
    const withId = newExchange()
    withId.headers['x-request-id'] = 'client-supplied-id'
    list.push(['request-id (AssemblyScript): reads one header, no change', () => rid.request(withId)])
    list.push(['  the same, unmetered (limits.fuel: false)', () => wafer.filter('request-id-unmetered').request(withId)])
    const auth = wafer.filter('auth')
    list.push(['auth (api-key, AssemblyScript): reads a header, sets one, removes one', () => {
      const ex = newExchange()
      auth.request(ex)
    }])
    list.push(['  new Exchange alone (subtract from the line above)', () => { newExchange() }])
  }
  return { list, wafer, inputBytes: input.length }
}

const { list, wafer, inputBytes } = await cases()
const results = list.map(() => [])
for (let r = 0; r < ROUNDS; r++) {
  list.forEach(([, fn], i) => results[i].push(measure(fn)))
}
await wafer.close()
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]
const rows = list.map(([name], i) => ({ name, ns: median(results[i]), min: Math.min(...results[i]), max: Math.max(...results[i]) }))

const table = [
  `| case | median ns/call | min | max |`,
  `| --- | ---: | ---: | ---: |`,
  ...rows.map((r) => `| ${r.name} | ${r.ns.toFixed(0)} | ${r.min.toFixed(0)} | ${r.max.toFixed(0)} |`)
].join('\n')
const machine = `${cpus()[0]?.model ?? 'unknown CPU'}, ${cpus().length} cores, Node ${process.version}`
console.log(`request input: ${inputBytes} bytes; ${ROUNDS} rounds x ${ITERATIONS} calls; ${machine}\n`)
console.log(table)

if (process.argv.includes('--write')) {
  const file = join(root, 'docs/benchmarks.md')
  const doc = readFileSync(file, 'utf8')
  const section = `<!-- micro:start -->\nMeasured ${new Date().toISOString().slice(0, 10)} on ${machine}; request input ${inputBytes} bytes; ` +
    `median of ${ROUNDS} interleaved rounds of ${ITERATIONS} calls after warm-up.\n\n${table}\n<!-- micro:end -->`
  const next = doc.replace(/<!-- micro:start -->[\s\S]*<!-- micro:end -->/, section)
  if (next === doc && !doc.includes(section)) throw new Error('docs/benchmarks.md has no <!-- micro:start --> ... <!-- micro:end --> section')
  writeFileSync(file, next)
  console.log(`\nwrote ${file}`)
}
