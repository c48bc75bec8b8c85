#!/usr/bin/env node
// Reload under load: p99 latency while the filter is rewritten every 250 ms, against steady
// state, and the time from a file write to the new version answering. Rounds alternate
// steady / reloading (S R S R S R); medians are reported.
//
//   taskset -c 1 node reload/reload-under-load.mjs [--write]
// The server runs in its own process on core 0 (taskset, when available).
import { spawn, spawnSync } from 'node:child_process'
import { copyFile, mkdtemp, readFile, rename, writeFile } from 'node:fs/promises'
import { readFileSync, writeFileSync } from 'node:fs'
import { cpus, tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import autocannon from 'autocannon'

const here = dirname(fileURLToPath(import.meta.url))
const root = join(here, '../..')
const fx = (n) => join(root, 'test/fixtures/build', `${n}.wasm`)
const ROUNDS = Number(process.env.ROUNDS ?? 3)
const SECONDS = Number(process.env.SECONDS ?? 5)
const CONNECTIONS = Number(process.env.CONNECTIONS ?? 16)

const dir = await mkdtemp(join(tmpdir(), 'wafer-reload-bench-'))
const module = join(dir, 'variant.wasm')
await copyFile(fx('variant-a'), module)
const config = join(dir, 'gateway.yaml')
await writeFile(config, `reload: { debounceMs: 50 }\nfilters:\n  rid: { module: ${join(root, 'examples/filters/request-id/build/request-id.wasm')} }\n  v: { module: ./variant.wasm }\nchains:\n  main: [rid, v]\n`)
const variants = { a: await readFile(fx('variant-a')), b: await readFile(fx('variant-b')) }

const pinned = spawnSync('taskset', ['-c', '0', 'true']).status === 0
const server = spawn(pinned ? 'taskset' : process.execPath, pinned ? ['-c', '0', process.execPath, join(here, 'server.mjs'), config] : [join(here, 'server.mjs'), config], { stdio: ['ignore', 'pipe', 'inherit'] })
const url = await new Promise((resolve, reject) => {
  server.stdout.once('data', (d) => resolve(String(d).trim()))
  server.once('exit', (code) => reject(new Error(`server exited with ${code}`)))
})

function run (seconds) {
  return new Promise((resolve, reject) => {
    autocannon({ url: `${url}/echo`, connections: CONNECTIONS, duration: seconds }, (err, result) => err ? reject(err) : resolve(result))
  })
}

/** Rewrites the module every 250 ms while `seconds` of load run; measures write -> serving. */
async function reloading (seconds) {
  const load = run(seconds)
  const delays = []
  let current = 'a'
  const end = Date.now() + (seconds - 0.5) * 1000
  while (Date.now() < end) {
    current = current === 'a' ? 'b' : 'a'
    const tmp = `${module}.tmp`
    await writeFile(tmp, variants[current])
    const written = performance.now()
    await rename(tmp, module)
    for (;;) {
      const res = await fetch(`${url}/echo`)
      await res.arrayBuffer()
      if (res.headers.get('x-variant-out') === current) break
    }
    delays.push(performance.now() - written)
    await new Promise((resolve) => setTimeout(resolve, 250))
  }
  return { result: await load, delays }
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]
const steady = []
const during = []
const delays = []
await run(2) // warm-up
for (let r = 0; r < ROUNDS; r++) {
  steady.push(await run(SECONDS))
  const x = await reloading(SECONDS)
  during.push(x.result)
  delays.push(...x.delays)
}
server.kill('SIGTERM')

const row = (name, rs) => {
  const failed = rs.reduce((n, r) => n + r.errors + r.timeouts + r.non2xx, 0)
  return `| ${name} | ${median(rs.map((r) => r.requests.average)).toFixed(0)} | ${median(rs.map((r) => r.latency.p50))} | ${median(rs.map((r) => r.latency.p99))} | ${failed} |`
}
const p99Steady = median(steady.map((r) => r.latency.p99))
const p99During = median(during.map((r) => r.latency.p99))
const table = [
  '| phase | req/s | p50 ms | p99 ms | failed requests |',
  '| --- | ---: | ---: | ---: | ---: |',
  row('steady', steady),
  row('module rewritten every 250 ms', during)
].join('\n')
const summary = `p99 during reloads / steady p99: **${(p99During / p99Steady).toFixed(2)}x** (target at most 2x). ` +
  `Reloads measured: ${delays.length}; file write -> new version serving: median ${median(delays).toFixed(0)} ms, max ${Math.max(...delays).toFixed(0)} ms ` +
  '(includes the 50 ms debounce and the polling request).'
const machine = `${cpus()[0]?.model ?? 'unknown CPU'}, ${cpus().length} cores, Node ${process.version}`
console.log(`${machine}; ${CONNECTIONS} connections; ${ROUNDS} rounds of ${SECONDS} s each phase; server ${pinned ? 'pinned to core 0' : 'not pinned'}\n`)
console.log(table)
console.log(`\n${summary}`)

if (process.argv.includes('--write')) {
  const file = join(root, 'docs/benchmarks.md')
  const doc = readFileSync(file, 'utf8')
  const section = `<!-- reload:start -->\nMeasured ${new Date().toISOString().slice(0, 10)} on ${machine}; chain request-id -> variant; ` +
    `${CONNECTIONS} connections; median of ${ROUNDS} interleaved rounds of ${SECONDS} s per phase.\n\n${table}\n\n${summary}\n<!-- reload:end -->`
  if (!doc.includes('<!-- reload:start -->')) throw new Error('docs/benchmarks.md has no reload section')
  writeFileSync(file, doc.replace(/<!-- reload:start -->[\s\S]*<!-- reload:end -->/, section))
  console.log(`wrote ${file}`)
}
