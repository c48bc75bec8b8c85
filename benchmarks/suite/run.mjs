#!/usr/bin/env node
// The benchmark suite: every scenario's server in its own process pinned to core 0, autocannon
// in this process (run it pinned to core 1), scenarios interleaved in each round, medians over
// rounds. Reports req/s, p50/p99 and server CPU microseconds per request, as ratios to bare
// Fastify in the same run.
//
//   pnpm bench          full run (three runs of three rounds, about 12 minutes), rewrites docs/benchmarks.md
//   pnpm bench:quick    one-minute smoke run; prints, writes nothing
//
// RUNS=n repeats the whole suite n times, each with fresh server processes: the table pools
// every round of every run, and each target line gives the spread of its ratio over the runs.
import { spawn, spawnSync } from 'node:child_process'
import { readFileSync, writeFileSync } from 'node:fs'
import { cpus } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import autocannon from 'autocannon'
import { body1kb, headers, root } from './scenarios.mjs'

const here = dirname(fileURLToPath(import.meta.url))
const quick = process.argv.includes('--quick')
const write = process.argv.includes('--write') && !quick
const ROUNDS = Number(process.env.ROUNDS ?? (quick ? 2 : 5))
const RUNS = Number(process.env.RUNS ?? 1)
const SETTLE_MS = Number(process.env.SETTLE_MS ?? (quick ? 0 : 1000))
const SECONDS = Number(process.env.SECONDS ?? (quick ? 2 : 5))
const WARMUP = quick ? 1 : 3
const CONNECTIONS = Number(process.env.CONNECTIONS ?? 32)
const NAMES = (process.env.SCENARIOS?.split(',')) ?? ['bare', 'fastify-hooks', 'chain-floor', 'js-chain', 'wasm-noop', 'wasm-1', 'wasm-3', 'wasm-10', 'wasm-example-chain', 'wasm-request-id', 'proxy-wasm-lean', 'bare-body-1kb', 'wasm-body-1kb', 'gateway', 'gateway-example-chain']

const canPin = spawnSync('taskset', ['-c', '0', 'true']).status === 0
const TICKS = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout.trim() || 100)

function start (name, arg) {
  const args = [join(here, 'server.mjs'), name, ...(arg === undefined ? [] : [arg])]
  const child = canPin ? spawn('taskset', ['-c', '0', process.execPath, ...args], { stdio: ['ignore', 'pipe', 'inherit'] }) : spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'] })
  return new Promise((resolve, reject) => {
    child.stdout.once('data', (d) => resolve({ name, child, url: String(d).trim() }))
    child.once('exit', (code) => reject(new Error(`${name} exited with ${code}`)))
  })
}

/** CPU time the process has used in user and in system mode, in microseconds, from /proc. */
function cpuMicros (pid) {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ')
    return { user: Number(fields[11]) / TICKS * 1e6, system: Number(fields[12]) / TICKS * 1e6 }
  } catch {
    return { user: NaN, system: NaN }
  }
}

function load (server, seconds) {
  const post = server.name.endsWith('body-1kb')
  return new Promise((resolve, reject) => {
    autocannon({
      url: `${server.url}/api/items`,
      connections: CONNECTIONS,
      ...(process.env.RATE ? { overallRate: Number(process.env.RATE) } : {}),
      duration: seconds,
      method: post ? 'POST' : 'GET',
      headers: post ? { ...headers, 'content-type': 'application/json' } : headers,
      ...(post ? { body: body1kb } : {})
    }, (err, result) => err ? reject(err) : resolve(result))
  })
}

async function measure (server) {
  const before = cpuMicros(server.child.pid)
  const t0 = process.hrtime.bigint()
  const r = await load(server, SECONDS)
  const wall = Number(process.hrtime.bigint() - t0) / 1000
  const after = cpuMicros(server.child.pid)
  const n = Math.max(1, r.requests.total)
  const user = (after.user - before.user) / n
  const system = (after.system - before.system) / n
  // How much of the measurement the server spent on CPU: well under 100% at saturation means it
  // waited (for the load generator, or for something else), so req/s then understates it.
  const busy = (after.user - before.user + after.system - before.system) / wall
  return { rps: r.requests.average, p50: r.latency.p50, p99: r.latency.p99, cpuPerReq: user + system, user, system, busy, bad: r.errors + r.timeouts + r.non2xx }
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]
/** One run of the suite: fresh servers, a warm-up, ROUNDS interleaved rounds. Every round's results by scenario. */
async function suiteRun (run) {
  const upstream = await start('upstream')
  const servers = []
  for (const name of NAMES) servers.push(await start(name, name.startsWith('gateway') ? upstream.url : undefined))
  for (const s of servers) await load(s, WARMUP) // JIT, pools, connections
  const results = Object.fromEntries(NAMES.map((n) => [n, []]))
  for (let r = 0; r < ROUNDS; r++) {
    // Each round starts one scenario later, so none always follows the same heavier one, and
    // each waits SETTLE_MS for the server measured before it to finish its backlog and its
    // garbage collection (the servers share core 0).
    for (let i = 0; i < servers.length; i++) {
      const s = servers[(i + r + run) % servers.length]
      await new Promise((resolve) => setTimeout(resolve, SETTLE_MS))
      results[s.name].push(await measure(s))
    }
    process.stderr.write(`run ${run + 1}/${RUNS}: round ${r + 1}/${ROUNDS} done\n`)
  }
  for (const s of [...servers, upstream]) s.child.kill('SIGTERM')
  return results
}

function summarize (results) {
  return NAMES.map((name) => {
    const rs = results[name]
    return { name, rps: median(rs.map((x) => x.rps)), p50: median(rs.map((x) => x.p50)), p99: median(rs.map((x) => x.p99)), cpu: median(rs.map((x) => x.cpuPerReq)), user: median(rs.map((x) => x.user)), system: median(rs.map((x) => x.system)), busy: median(rs.map((x) => x.busy)), bad: rs.reduce((n, x) => n + x.bad, 0) }
  })
}

const started = Date.now()
const runs = []
for (let i = 0; i < RUNS; i++) runs.push(await suiteRun(i))
const pooled = Object.fromEntries(NAMES.map((n) => [n, runs.flatMap((r) => r[n])]))
const rows = summarize(pooled)
const by = Object.fromEntries(rows.map((r) => [r.name, r]))
const perRun = runs.map((r) => Object.fromEntries(summarize(r).map((x) => [x.name, x])))
// NaN when a subset run (SCENARIOS=...) left one side out.
const ratio = (a, b) => by[a] === undefined || by[b] === undefined ? 'NaN' : (by[a].rps / by[b].rps).toFixed(2)
/** With several runs: the ratio's lowest and highest over the runs. */
const spread = (a, b) => {
  if (RUNS < 2 || by[a] === undefined || by[b] === undefined) return ''
  const rs = perRun.map((r) => r[a].rps / r[b].rps)
  return `; ${RUNS} runs: ${Math.min(...rs).toFixed(2)}-${Math.max(...rs).toFixed(2)}x`
}
/** What each comparison without a target measures against. */
const FLOORS = {
  'bare-body-1kb': 'the same POST route without Wafer: the filter\'s own cost',
  'fastify-hooks': 'the two route hooks Wafer adds, doing nothing: Wafer\'s own cost',
  'chain-floor': 'those hooks putting the chain\'s three reply headers on: what the filters and Wafer add'
}
const table = [
  '| scenario | req/s | vs bare | p50 ms | p99 ms | server CPU µs/req | user / system | server busy | non-2xx or errors |',
  '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
  ...rows.map((r) => `| ${r.name} | ${r.rps.toFixed(0)} | ${ratio(r.name, 'bare')}x | ${r.p50} | ${r.p99} | ${r.cpu.toFixed(0)} | ${r.user.toFixed(0)} / ${r.system.toFixed(0)} | ${(100 * r.busy).toFixed(0)}% | ${r.bad} |`)
].join('\n')
const chainVsBare = Number(ratio('wasm-example-chain', 'bare'))
const chainVsJs = Number(ratio('wasm-example-chain', 'js-chain'))
const targets = [
  ...(Number.isNaN(chainVsBare) ? [] : [`- 3-filter example chain vs bare Fastify: **${chainVsBare.toFixed(2)}x** req/s (target at least 0.90x: ${chainVsBare >= 0.9 ? 'met' : 'missed'}${spread('wasm-example-chain', 'bare')})`]),
  ...(Number.isNaN(chainVsJs) ? [] : [`- 3-filter example chain vs the hand-written JS equivalent: **${chainVsJs.toFixed(2)}x** (target at least 0.95x: ${chainVsJs >= 0.95 ? 'met' : 'missed'}${spread('wasm-example-chain', 'js-chain')})`]),
  ...[['wasm-noop', 'bare', 0.97], ['wasm-request-id', 'bare', 0.95], ['wasm-10', 'bare', 0.8], ['proxy-wasm-lean', 'bare', 0.85], ['wasm-body-1kb', 'bare', 0.75], ['wasm-body-1kb', 'bare-body-1kb', undefined], ['gateway-example-chain', 'gateway', 0.9], ['wasm-noop', 'fastify-hooks', undefined], ['wasm-example-chain', 'chain-floor', undefined]]
    .filter(([a, b]) => by[a] !== undefined && by[b] !== undefined)
    .map(([a, b, t]) => `- ${a} vs ${b}: **${ratio(a, b)}x** (${t === undefined ? `${FLOORS[b]}; no target` : `target at least ${t.toFixed(2)}x: ${Number(ratio(a, b)) >= t ? 'met' : 'missed'}`}${spread(a, b)})`),
  `- server CPU per request: ${rows.map((r) => `${r.name} ${r.cpu.toFixed(0)} µs`).join(', ')}`
].join('\n')
const machine = `${cpus()[0]?.model ?? 'unknown CPU'}, ${cpus().length} cores, Node ${process.version}`
const effort = `${RUNS > 1 ? `${RUNS} runs of ` : ''}${ROUNDS} interleaved rounds of ${SECONDS} s`
console.log(`${machine}; ${CONNECTIONS} connections; ${effort}; servers ${canPin ? 'pinned to core 0' : 'not pinned'}\n`)
console.log(table)
console.log(`\n${targets}\n(${Math.round((Date.now() - started) / 1000)} s)`)

if (write) {
  const file = join(root, 'docs/benchmarks.md')
  const doc = readFileSync(file, 'utf8')
  const section = `<!-- suite:start -->\nMeasured ${new Date().toISOString().slice(0, 10)} on ${machine}. ${CONNECTIONS} connections, ` +
    `${effort} (each run: fresh servers and a ${WARMUP} s warm-up), medians over every round; servers ${canPin ? 'pinned to core 0, autocannon to core 1' : 'not pinned'}. ` +
    `Command: \`cd benchmarks && RUNS=${RUNS} ROUNDS=${ROUNDS} taskset -c 1 node suite/run.mjs --write\` (\`pnpm bench\`).\n\n${table}\n\n${targets}\n<!-- suite:end -->`
  if (!doc.includes('<!-- suite:start -->')) throw new Error('docs/benchmarks.md has no suite section')
  writeFileSync(file, doc.replace(/<!-- suite:start -->[\s\S]*<!-- suite:end -->/, section))
  console.log(`wrote ${file}`)
}
