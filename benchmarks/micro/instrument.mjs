#!/usr/bin/env node
// What fuel metering costs per call: each example filter (and noop.wat), loaded by @wafer/core
// twice, metered (the default) and unmetered (limits.fuel: false), and called through
// Filter.request() as the host calls it on a request, on the success path of the configs in
// examples/fastify-basic/app.mjs (rate-limit's store answers at once, inside the call). The
// metered side pays the host's part too: one setFuel when the phase starts. Rounds are
// interleaved (plain and metered alternate which goes first) and the median round is reported.
//
//   node micro/instrument.mjs           print the table
//   node micro/instrument.mjs --write   also rewrite the instrument section of docs/benchmarks.md
//
// Pin it to one core for steadier numbers: `taskset -c 1 node micro/instrument.mjs --write`.
import { readFileSync, writeFileSync, existsSync } from 'node:fs'
import { cpus } from 'node:os'
import { join, dirname } from 'node:path'
import { fileURLToPath } from 'node:url'
import { pino } from 'pino'
import { createWafer, Exchange } from '@wafer/core'
// The sandbox is not part of @wafer/core's public exports: import the built file directly.
import { instrumentModule } from '../../packages/core/dist/sandbox/index.js'

const root = join(dirname(fileURLToPath(import.meta.url)), '../..')
const fixture = (n) => join(root, 'test/fixtures/build', `${n}.wasm`)
const example = (n) => join(root, 'examples/filters', n, 'build', `${n}.wasm`)
const ROUNDS = Number(process.env.ROUNDS ?? 21)
const ITERATIONS = Number(process.env.ITERATIONS ?? 50_000)
const logger = pino({ level: 'silent' })

// The header set of micro/filter-call.mjs, with the key and subject the example configs accept.
const headers = () => ({
  host: 'api.example.com',
  'user-agent': 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0',
  accept: 'application/json',
  'accept-encoding': 'gzip, deflate, br',
  'x-api-key': 'demo-key',
  'x-auth-subject': 'demo'
})
const exchange = () => new Exchange({ id: 'req-1', method: 'GET', url: '/api/items?page=2', headers: headers(), remoteAddress: '127.0.0.1', log: logger })

// Configs from examples/fastify-basic/app.mjs; rate-limit's limit is high enough never to answer 429.
const filters = [
  ['noop (noop.wat)', fixture('noop'), undefined],
  ['request-id', example('request-id'), {}],
  ['auth (api-key)', example('auth'), { mode: 'api-key', header: 'x-api-key', keys: ['demo-key', 'other-key'], subjects: ['demo', 'other'] }],
  ['rewrite', example('rewrite'), { prefix: { from: '/api/', to: '/internal/' }, setHeaders: { 'x-gateway': 'wafer' } }],
  ['rate-limit (fixed window)', example('rate-limit'), { algorithm: 'fixed-window', limit: 1_000_000_000, windowMs: 60_000, key: 'header:x-auth-subject' }]
]

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
  const options = (limits) => ({ module: path, ...(config === undefined ? {} : { config }), limits })
  const wafer = await createWafer({ logger, filters: { plain: options({ fuel: false }), metered: options({}) } })
  // A new Exchange per call, as per request, but the same for both sides.
  const call = (filter) => () => {
    const d = filter.request(exchange())
    if (d instanceof Promise || d.respond) throw new Error(`${name}: expected continue`)
  }
  cases.push({ name, plain: call(wafer.filter('plain')), metered: call(wafer.filter('metered')), instrumentMs, size: [bytes.length, instrumented.bytes.length], ns: [[], []] })
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
  '| filter | plain ns/call | metered ns/call | ratio (min-max) | bytes plain -> metered | instrument ms |',
  '| --- | ---: | ---: | ---: | ---: | ---: |',
  ...cases.map((c) => {
    const ratios = c.ns[1].map((m, i) => m / c.ns[0][i])
    const range = `${Math.min(...ratios).toFixed(2)}-${Math.max(...ratios).toFixed(2)}`
    return `| ${c.name} | ${median(c.ns[0]).toFixed(0)} | ${median(c.ns[1]).toFixed(0)} | ${median(ratios).toFixed(2)} (${range}) | ${c.size[0]} -> ${c.size[1]} | ${c.instrumentMs.toFixed(0)} |`
  })
].join('\n')
const machine = `${cpus()[0]?.model ?? 'unknown CPU'}, ${cpus().length} cores, Node ${process.version}`
console.log(`${ROUNDS} rounds x ${ITERATIONS} calls; ${machine}\n`)
console.log(table)

if (process.argv.includes('--write')) {
  const file = join(root, 'docs/benchmarks.md')
  const doc = readFileSync(file, 'utf8')
  const section = `<!-- instrument:start -->\nMeasured ${new Date().toISOString().slice(0, 10)} on ${machine}; a new Exchange per call (in both columns); ` +
    `median of ${ROUNDS} interleaved rounds of ${ITERATIONS} calls after warm-up. "instrument ms" is one \`instrumentModule\` ` +
    `call (the first ones include loading binaryen.js and its warm-up).\n\n${table}\n<!-- instrument:end -->`
  const next = doc.replace(/<!-- instrument:start -->[\s\S]*<!-- instrument:end -->/, section)
  if (next === doc && !doc.includes(section)) throw new Error('docs/benchmarks.md has no <!-- instrument:start --> ... <!-- instrument:end --> section')
  writeFileSync(file, next)
  console.log(`\nwrote ${file}`)
}
