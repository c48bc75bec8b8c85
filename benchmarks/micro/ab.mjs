#!/usr/bin/env node
// A/B of the runtime in one process: @wafer/core as of an earlier commit against the working
// tree's, on the same guests, in interleaved rounds. On this shared 2-core VM the suite cannot
// resolve a change of a few percent (bare Fastify alone moves by 30% between runs); two cores
// measured in one process, round after round, can.
//
//   cd benchmarks && taskset -c 1 node micro/ab.mjs <commit> [case,case...]
//
// It builds that commit's packages/core (git archive + tsc, against this tree's
// node_modules) in a temporary directory, then times each case with both. Cases: chain
// (auth -> rewrite -> rate-limit), auth, rewrite, rate-limit (each alone, as a request with the
// headers the suite sends), read-set (read-set.wat, one header read and one set, on a kept
// Exchange), lean (the Proxy-Wasm lean filter), request-id (a new id, both phases) and
// request-id-kept (the client's id kept and echoed). ROUNDS (default 9) sets the rounds. Guests
// are this tree's build: to compare guests too, build them at both commits yourself.
import { execFileSync } from 'node:child_process'
import { mkdtempSync, rmSync, symlinkSync, copyFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { pino } from 'pino'

const root = join(dirname(fileURLToPath(import.meta.url)), '../..')
const [rev, only] = process.argv.slice(2)
if (rev === undefined) {
  console.error('usage: node micro/ab.mjs <commit> [case,case...]')
  process.exit(2)
}
const ROUNDS = Number(process.env.ROUNDS ?? 9)

// The earlier core, built in a temporary directory.
const dir = mkdtempSync(join(tmpdir(), 'wafer-ab-'))
process.on('exit', () => { rmSync(dir, { recursive: true, force: true }) })
const archive = execFileSync('git', ['-C', root, 'archive', rev, 'packages/core', 'tsconfig.base.json'])
execFileSync('tar', ['-x', '-C', dir], { input: archive })
symlinkSync(join(root, 'packages/core/node_modules'), join(dir, 'packages/core/node_modules'))
copyFileSync(join(root, 'tsconfig.base.json'), join(dir, 'tsconfig.base.json'))
try {
  execFileSync(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', join(dir, 'packages/core')], { stdio: 'pipe' })
} catch (err) {
  // tsc emits despite type errors (a missing @types path in the copy); only a missing output is fatal.
  if (!String(err.stdout).includes('error')) throw err
}
const A = await import(pathToFileURL(join(dir, 'packages/core/dist/index.js')).href)
const B = await import(pathToFileURL(join(root, 'packages/core/dist/index.js')).href)

const example = (n) => join(root, 'examples/filters', n, 'build', `${n}.wasm`)
const fixture = (n) => join(root, 'test/fixtures/build', `${n}.wasm`)
const logger = pino({ level: 'silent' })
const filters = () => ({
  auth: { module: example('auth'), config: { mode: 'api-key', header: 'x-api-key', keys: ['bench-key'], subjects: ['bench'] } },
  rewrite: { module: example('rewrite'), config: { prefix: { from: '/api/', to: '/v2/' }, setHeaders: { 'x-gateway': 'wafer' } } },
  'rate-limit': { module: example('rate-limit'), config: { algorithm: 'fixed-window', limit: 1e9, windowMs: 60000, key: 'header:x-auth-subject' } },
  'read-set': { module: fixture('read-set') },
  lean: { module: fixture('proxy-sdk-lean') },
  rid: { module: example('request-id') }
})

async function setup (core) {
  const wafer = await core.createWafer({ logger, filters: filters() })
  let n = 0
  const run = (chain, extra = {}) => () => {
    const ex = new core.Exchange({ id: String(++n), method: 'GET', url: '/api/items', headers: { host: '127.0.0.1:3000', 'x-api-key': 'bench-key', 'user-agent': 'autocannon', accept: 'application/json', ...extra }, remoteAddress: '127.0.0.1', log: logger })
    const d = chain.runRequest(ex)
    if (d instanceof Promise || d.respond) throw new Error('the chain must continue synchronously')
    if (chain.responsePhaseFor(ex.reached) !== 'none') {
      ex.response = { status: 200, headers: { 'content-type': 'application/json; charset=utf-8', 'content-length': '42' }, body: undefined, changed: false, bodyChanged: false }
      chain.runResponse(ex)
    }
    chain.finish(ex)
  }
  const readSet = wafer.filter('read-set')
  const kept = new core.Exchange({ id: 'r', method: 'GET', url: '/api/items?page=2', headers: { host: 'api.example.com', accept: 'application/json', 'x-api-key': 'k1-test-key' }, remoteAddress: '127.0.0.1', log: logger })
  return {
    wafer,
    cases: {
      chain: [run(wafer.compose(['auth', 'rewrite', 'rate-limit'])), 1e5],
      auth: [run(wafer.compose(['auth'])), 1e5],
      rewrite: [run(wafer.compose(['rewrite'])), 1e5],
      // As in the chain: the subject auth would have set.
      'rate-limit': [run(wafer.compose(['rate-limit']), { 'x-auth-subject': 'bench' }), 1e5],
      'read-set': [() => readSet.request(kept), 5e5],
      lean: [run(wafer.compose(['lean'])), 1e5],
      // Both phases: a new id (16 random bytes as a UUID) set on the request and echoed on the reply.
      'request-id': [run(wafer.compose(['rid'])), 1e5],
      // The client's id kept and echoed.
      'request-id-kept': [run(wafer.compose(['rid']), { 'x-request-id': '0f8fad5b-d9cb-469f-a165-70867728950e' }), 1e5]
    }
  }
}

const a = await setup(A)
const b = await setup(B)
const names = Object.keys(a.cases).filter((c) => only === undefined || only.split(',').includes(c))
const time = (fn, count) => {
  const start = process.hrtime.bigint()
  for (let i = 0; i < count; i++) fn()
  return Number(process.hrtime.bigint() - start) / count
}
const results = Object.fromEntries(names.map((c) => [c, { a: [], b: [] }]))
for (const c of names) { time(a.cases[c][0], a.cases[c][1]); time(b.cases[c][0], b.cases[c][1]) }
for (let r = 0; r < ROUNDS; r++) {
  for (const c of names) {
    const [fa, count] = a.cases[c]
    const [fb] = b.cases[c]
    // Alternate which goes first.
    if (r % 2 === 0) { results[c].a.push(time(fa, count)); results[c].b.push(time(fb, count)) } else { results[c].b.push(time(fb, count)); results[c].a.push(time(fa, count)) }
  }
}
await Promise.all([a.wafer.close(), b.wafer.close()])
const median = (xs) => [...xs].sort((x, y) => x - y)[xs.length >> 1]
console.log(`${ROUNDS} interleaved rounds; ${rev} against the working tree; ns per request (median)\n`)
console.log('| case | before | now | now/before |\n| --- | ---: | ---: | ---: |')
for (const c of names) {
  const before = median(results[c].a)
  const now = median(results[c].b)
  console.log(`| ${c} | ${before.toFixed(0)} | ${now.toFixed(0)} | ${(now / before).toFixed(2)} |`)
}
