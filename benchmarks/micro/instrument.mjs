#!/usr/bin/env node
// What fuel metering costs per call: each example filter (and noop.wat), plain and instrumented
// by @wafer/core's sandbox, called the way the host calls it (wafer_alloc, copy the ~350-byte
// request in, wafer_on_request; for rate-limit also the wafer_on_resume that completes the
// request), on the success path of the configs in examples/fastify-basic/app.mjs. The metered
// side also pays the host's part: setFuel before each of those calls. Rounds are interleaved
// (plain and metered alternate which goes first) and the median round is reported.
//
//   node micro/instrument.mjs           print the table
//   node micro/instrument.mjs --write   also rewrite the instrument section of docs/benchmarks.md
//
// Pin it to one core for steadier numbers: `taskset -c 1 node micro/instrument.mjs --write`.
import { readFileSync, writeFileSync, existsSync } from 'node:fs'
import { cpus } from 'node:os'
import { join, dirname } from 'node:path'
import { fileURLToPath } from 'node:url'
// The sandbox is not part of @wafer/core's public exports yet: import the built files directly
// (build first: `cd packages/core && npx tsc -p .`).
import { instrumentModule, setFuel, fuelUsed, fuelBudget } from '../../packages/core/dist/sandbox/index.js'

const root = join(dirname(fileURLToPath(import.meta.url)), '../..')
const fixture = (n) => join(root, 'test/fixtures/build', `${n}.wasm`)
const example = (n) => join(root, 'examples/filters', n, 'build', `${n}.wasm`)
const ROUNDS = Number(process.env.ROUNDS ?? 21)
const ITERATIONS = Number(process.env.ITERATIONS ?? 50_000)
const BUDGET = fuelBudget(10_000_000)

// The header set of micro/filter-call.mjs, with the key and subject the example configs accept.
const input = Buffer.from(JSON.stringify({
  id: 'req-1',
  method: 'GET',
  path: '/api/items',
  query: 'page=2',
  remoteAddress: '127.0.0.1',
  headers: {
    host: 'api.example.com',
    'user-agent': 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0',
    accept: 'application/json',
    'accept-encoding': 'gzip, deflate, br',
    'x-api-key': 'demo-key',
    'x-auth-subject': 'demo'
  }
}))
const counter = Buffer.from('{"value":1,"ttlMs":59000}')

// Configs from examples/fastify-basic/app.mjs.
const filters = [
  ['noop (noop.wat)', fixture('noop'), undefined],
  ['request-id', example('request-id'), {}],
  ['auth (api-key)', example('auth'), { mode: 'api-key', header: 'x-api-key', keys: ['demo-key', 'other-key'], subjects: ['demo', 'other'] }],
  ['rewrite', example('rewrite'), { prefix: { from: '/api/', to: '/internal/' }, setHeaders: { 'x-gateway': 'wafer' } }],
  ['rate-limit (fixed window, request + resume)', example('rate-limit'), { algorithm: 'fixed-window', limit: 5, windowMs: 60_000, key: 'header:x-auth-subject' }]
]

/** A host as thin as the real one's glue: copies output out, fills random bytes, hands out tokens. */
function instantiate (bytes) {
  let memory
  let token = 0
  let output
  const wafer = {
    output: (ptr, len) => { output = Buffer.from(memory.buffer, ptr, len).toString(); return 0 },
    log: () => 0,
    now_ms: () => Date.now(),
    random_fill: (ptr, len) => { new Uint8Array(memory.buffer, ptr, len).fill(7); return 0 },
    kv_get: () => ++token,
    kv_set: () => ++token,
    kv_incr: () => ++token,
    kv_del: () => ++token
  }
  const { exports } = new WebAssembly.Instance(new WebAssembly.Module(bytes), { wafer })
  memory = exports.memory
  // Like the host, keep one view and replace it only when memory.grow detached the buffer.
  let view = new Uint8Array(memory.buffer)
  const bytesView = () => view.buffer === memory.buffer ? view : (view = new Uint8Array(memory.buffer))
  return { exports, memory, bytesView, lastToken: () => token, output: () => output }
}

/** One request through a guest: alloc + copy + call, and the resume when it pauses. */
function caller (guest, metered) {
  const x = guest.exports
  const alloc = x.wafer_alloc
  const onRequest = x.wafer_on_request
  const onResume = x.wafer_on_resume
  const write = (bytes) => {
    if (metered) setFuel(x, BUDGET)
    const ptr = alloc(bytes.length)
    guest.bytesView().set(bytes, ptr)
    return ptr
  }
  return () => {
    const ptr = write(input)
    if (metered) setFuel(x, BUDGET)
    let action = onRequest(ptr, input.length)
    if (action === 2) {
      const data = write(counter)
      if (metered) setFuel(x, BUDGET)
      action = onResume(guest.lastToken(), 0, data, counter.length)
    }
    if (action !== 0) throw new Error(`expected continue, got action ${action}: ${guest.output()}`)
  }
}

function init (guest, config, metered) {
  if (config === undefined || guest.exports.wafer_init === undefined) return
  const bytes = Buffer.from(JSON.stringify(config))
  if (metered) setFuel(guest.exports, BUDGET)
  const ptr = guest.exports.wafer_alloc(bytes.length)
  guest.bytesView().set(bytes, ptr)
  if (metered) setFuel(guest.exports, BUDGET)
  const r = guest.exports.wafer_init(ptr, bytes.length)
  if (r < 0) throw new Error(`wafer_init rejected the config: ${guest.output()}`)
}

function measure (fn) {
  for (let i = 0; i < ITERATIONS / 4; i++) fn()
  const start = process.hrtime.bigint()
  for (let i = 0; i < ITERATIONS; i++) fn()
  return Number(process.hrtime.bigint() - start) / ITERATIONS
}

const cases = []
for (const [name, path, config] of filters) {
  if (!existsSync(path)) {
    console.error(`skipping ${name}: ${path} is missing (run node scripts/build-guests.mjs)`)
    continue
  }
  const bytes = readFileSync(path)
  const started = performance.now()
  const instrumented = await instrumentModule(bytes, { fuel: true })
  const instrumentMs = performance.now() - started
  const plain = instantiate(bytes)
  const metered = instantiate(instrumented.bytes)
  init(plain, config, false)
  init(metered, config, true)
  const runMetered = caller(metered, true)
  runMetered()
  // Fuel of the last call into the guest (wafer_on_request, or wafer_on_resume for rate-limit).
  const fuel = fuelUsed(metered.exports, BUDGET)
  cases.push({ name, plain: caller(plain, false), metered: runMetered, fuel, instrumentMs, size: [bytes.length, instrumented.bytes.length], ns: [[], []] })
}

for (let r = 0; r < ROUNDS; r++) {
  for (const c of cases) {
    // Alternate which side goes first, so neither always runs on a warmer cache.
    if (r % 2 === 0) { c.ns[0].push(measure(c.plain)); c.ns[1].push(measure(c.metered)) } else { c.ns[1].push(measure(c.metered)); c.ns[0].push(measure(c.plain)) }
  }
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]
// The ratio is the median of the per-round ratios: both sides of a round share the machine's
// state at that moment, so drift across rounds cancels out.
const table = [
  '| filter | plain ns/call | metered ns/call | ratio (min-max) | fuel of the last entry call | bytes plain -> metered | instrument ms |',
  '| --- | ---: | ---: | ---: | ---: | ---: | ---: |',
  ...cases.map((c) => {
    const ratios = c.ns[1].map((m, i) => m / c.ns[0][i])
    const range = `${Math.min(...ratios).toFixed(2)}-${Math.max(...ratios).toFixed(2)}`
    return `| ${c.name} | ${median(c.ns[0]).toFixed(0)} | ${median(c.ns[1]).toFixed(0)} | ${median(ratios).toFixed(2)} (${range}) | ${c.fuel} | ${c.size[0]} -> ${c.size[1]} | ${c.instrumentMs.toFixed(0)} |`
  })
].join('\n')
const machine = `${cpus()[0]?.model ?? 'unknown CPU'}, ${cpus().length} cores, Node ${process.version}`
console.log(`request input: ${input.length} bytes; ${ROUNDS} rounds x ${ITERATIONS} calls; ${machine}\n`)
console.log(table)

if (process.argv.includes('--write')) {
  const file = join(root, 'docs/benchmarks.md')
  const doc = readFileSync(file, 'utf8')
  const section = `<!-- instrument:start -->\nMeasured ${new Date().toISOString().slice(0, 10)} on ${machine}; request input ${input.length} bytes; ` +
    `median of ${ROUNDS} interleaved rounds of ${ITERATIONS} calls after warm-up. "instrument ms" is one \`instrumentModule\` ` +
    `call (the first ones include loading binaryen.js and its warm-up).\n\n${table}\n<!-- instrument:end -->`
  const next = doc.replace(/<!-- instrument:start -->[\s\S]*<!-- instrument:end -->/, section)
  if (next === doc && !doc.includes(section)) throw new Error('docs/benchmarks.md has no <!-- instrument:start --> ... <!-- instrument:end --> section')
  writeFileSync(file, next)
  console.log(`\nwrote ${file}`)
}
