#!/usr/bin/env node
// How long `app.register(wafer, ...)` takes to be ready with an empty instrumentation cache
// (WAFER_CACHE_DIR pointing at a new empty directory), and then warm (the same directory again).
// Each measurement is a fresh process, so binaryen.js, the workers and the cache all start cold.
//
//   example   examples/fastify-basic/app.mjs: its build() (the 4 example filters), then ready()
//   ten       ten distinct filters: the 4 example filters, each copy made distinct by a custom section
//   big       one generated 3 MB native-ABI module (test/support/big-module.mjs)
//   four-big  four distinct generated 1 MB modules: what preparing them in parallel gains
//   refused   the same 3 MB module declaring Proxy-Wasm: how long until it is refused
//
// Besides the time, each run reports the longest the event loop was blocked during
// registration (perf_hooks.monitorEventLoopDelay, 10 ms resolution): a server that reloads
// keeps answering only if this stays small. Peak RSS is the process's (worker threads included).
//
//   node cold/cold-start.mjs            print the table (RUNS=3 per scenario, median)
//   node cold/cold-start.mjs --write    also rewrite the "Cold start" section of docs/benchmarks.md
//
// BEFORE=<a built packages/core/dist> also runs every measurement against that build of
// @wafer/core (the rest, Fastify and @wafer/fastify, unchanged), interleaved with the current
// one, and adds its columns: an A/B on the same machine at the same time.
import { execFileSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { availableParallelism, cpus, tmpdir } from 'node:os'
import { join, dirname } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { monitorEventLoopDelay } from 'node:perf_hooks'

const here = dirname(fileURLToPath(import.meta.url))
const root = join(here, '../..')
const example = (n) => join(root, 'examples/filters', n, 'build', `${n}.wasm`)
const EXAMPLES = ['request-id', 'auth', 'rewrite', 'rate-limit']
const RUNS = Number(process.env.RUNS ?? 3)
// The configs of examples/fastify-basic/app.mjs (auth and rate-limit refuse to start without one).
const CONFIGS = {
  'request-id': {},
  auth: { mode: 'api-key', header: 'x-api-key', keys: ['demo-key'], subjects: ['demo'] },
  rewrite: { prefix: { from: '/api/', to: '/internal/' } },
  'rate-limit': { algorithm: 'fixed-window', limit: 5, windowMs: 60_000, key: 'ip' }
}

async function child (scenario, modules) {
  const { default: Fastify } = await import('fastify')
  const { default: wafer } = await import('@wafer/fastify')
  const { build } = await import(pathToFileURL(join(root, 'examples/fastify-basic/app.mjs')).href)
  const files = JSON.parse(modules)
  const delay = monitorEventLoopDelay({ resolution: 10 })
  delay.enable()
  const start = performance.now()
  let outcome = 'ready'
  let app
  try {
    if (scenario === 'example') {
      app = await build({ logger: false })
    } else {
      // pluginTimeout 0: measure however long it takes rather than stop at Fastify's 10 s.
      app = Fastify({ logger: false, pluginTimeout: 0 })
      const filters = Object.fromEntries(files.map(([file, config], i) => [`f${i}`, { module: file, ...(config === undefined ? {} : { config }) }]))
      await app.register(wafer, { filters })
    }
    await app.ready()
  } catch (err) {
    outcome = err.code ?? err.message
  }
  const ms = performance.now() - start
  delay.disable()
  await app?.close()
  process.stdout.write(JSON.stringify({ ms, outcome, maxBlockedMs: delay.max / 1e6, peakRssMB: process.resourceUsage().maxRSS / 1024 }))
}

/** `--import` arguments that make `@wafer/core` resolve to `dist` in the child. */
function redirectCore (dist) {
  const target = pathToFileURL(join(dist, 'index.js')).href
  const hook = `export async function resolve (s, c, next) { return s === '@wafer/core' ? { url: ${JSON.stringify(target)}, shortCircuit: true } : next(s, c) }`
  const main = `import { register } from 'node:module'; register(${JSON.stringify(`data:text/javascript,${encodeURIComponent(hook)}`)})`
  return ['--import', `data:text/javascript,${encodeURIComponent(main)}`]
}

function run (scenario, files, cacheDir, coreDist) {
  const flags = coreDist === undefined ? [] : redirectCore(coreDist)
  const out = execFileSync(process.execPath, [...flags, fileURLToPath(import.meta.url), '--child', scenario, JSON.stringify(files)], {
    cwd: here, env: { ...process.env, WAFER_CACHE_DIR: cacheDir }, encoding: 'utf8'
  })
  return JSON.parse(out)
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]

async function main () {
  const { bigModule, distinctCopy } = await import(pathToFileURL(join(root, 'test/support/big-module.mjs')).href)
  const work = mkdtempSync(join(tmpdir(), 'wafer-cold-'))
  try {
    const ten = []
    for (let i = 0; i < 10; i++) {
      const name = EXAMPLES[i % EXAMPLES.length]
      const file = join(work, `${name}-${i}.wasm`)
      writeFileSync(file, distinctCopy(readFileSync(example(name)), i))
      ten.push([file, CONFIGS[name]])
    }
    const big = join(work, 'big.wasm')
    writeFileSync(big, bigModule({ bytes: 3_000_000 }))
    const fourBig = []
    for (let i = 0; i < 4; i++) {
      const file = join(work, `big-1mb-${i}.wasm`)
      writeFileSync(file, bigModule({ bytes: 1_000_000, seed: i }))
      fourBig.push([file])
    }
    const refused = join(work, 'refused.wasm')
    writeFileSync(refused, bigModule({ bytes: 3_000_000, marker: 'proxy_abi_version_0_2_1' }))
    const scenarios = [
      ['example', 'examples/fastify-basic (4 filters, 41-64 KB)', []],
      ['ten', '10 distinct filters (41-64 KB)', ten],
      ['big', 'one 3 MB module', [[big]]],
      ['four-big', 'four distinct 1 MB modules', fourBig],
      ['refused', 'one 3 MB Proxy-Wasm module (refused)', [[refused]]]
    ]
    const before = process.env.BEFORE
    const variants = before === undefined ? [['', undefined]] : [['before', before], ['after', undefined]]
    const rows = []
    for (const [scenario, label, files] of scenarios) {
      for (let r = 0; r < RUNS; r++) {
        // Alternate which build goes first, so neither always runs on the quieter turn.
        for (const [name, dist] of r % 2 === 0 ? variants : [...variants].reverse()) {
          const cacheDir = mkdtempSync(join(work, 'cache-'))
          const cold = run(scenario, files, cacheDir, dist)
          const warm = run(scenario, files, cacheDir, dist)
          rmSync(cacheDir, { recursive: true, force: true })
          let row = rows.find((x) => x.label === label && x.name === name)
          if (row === undefined) rows.push(row = { label, name, cold: [], warm: [] })
          row.cold.push(cold)
          row.warm.push(warm)
        }
      }
    }
    const table = [
      `| scenario |${before === undefined ? '' : ' core |'} outcome | cold: register to ready | cold: event loop blocked at most | cold: peak RSS | warm: register to ready | warm: blocked at most |`,
      `| --- |${before === undefined ? '' : ' --- |'} --- | ---: | ---: | ---: | ---: | ---: |`,
      ...rows.map((r) => {
        const m = (runs, key) => fmt(median(runs.map((x) => x[key])))
        const outcome = [...new Set(r.cold.map((c) => c.outcome))].join(', ')
        return `| ${r.label} |${before === undefined ? '' : ` ${r.name} |`} ${outcome} | ${m(r.cold, 'ms')} | ${m(r.cold, 'maxBlockedMs')} | ${Math.round(median(r.cold.map((x) => x.peakRssMB)))} MB | ${m(r.warm, 'ms')} | ${m(r.warm, 'maxBlockedMs')} |`
      })
    ].join('\n')
    const machine = `${cpus()[0]?.model.trim()}, ${availableParallelism()} cores, Node ${process.version}`
    const text = `Measured ${new Date().toISOString().slice(0, 10)} on ${machine}; median of ${RUNS} runs, each a fresh process.\n\n${table}\n`
    console.log(text)
    if (process.argv.includes('--write')) writeSection(text)
  } finally {
    rmSync(work, { recursive: true, force: true })
  }
}

function fmt (ms) {
  return ms >= 1000 ? `${(ms / 1000).toFixed(2)} s` : `${Math.round(ms)} ms`
}

/** Replaces the text between the cold-start markers in docs/benchmarks.md. */
function writeSection (text) {
  const file = join(root, 'docs/benchmarks.md')
  const doc = readFileSync(file, 'utf8')
  const begin = '<!-- cold-start:begin -->'
  const end = '<!-- cold-start:end -->'
  const a = doc.indexOf(begin)
  const b = doc.indexOf(end)
  if (a < 0 || b < a) throw new Error(`docs/benchmarks.md has no ${begin} ... ${end} markers`)
  writeFileSync(file, `${doc.slice(0, a + begin.length)}\n${text}${doc.slice(b)}`)
}

if (process.argv[2] === '--child') {
  await child(process.argv[3], process.argv[4])
} else {
  await main()
}
