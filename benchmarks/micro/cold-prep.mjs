#!/usr/bin/env node
// Cold preparation of one large module (issue 14: "a 3 MB Go-built module must not block the
// event loop"), step by step, in one fresh process with an empty instrumentation cache
// (WAFER_CACHE_DIR pointing at a new directory). No Go toolchain here: the module is generated
// by test/support/big-module.mjs (loops and branches, the bulk of a Go or Rust build), about
// 3 MB, distinct per run so no earlier cache entry applies.
//
// What it reports:
//   - cold load: createWafer with the module and fuel metering (the default), empty cache and
//     no instrumentation worker yet: the time to ready and the longest event-loop stall
//     (perf_hooks.monitorEventLoopDelay, 1 ms resolution) while it ran; then the same module
//     again in a new runtime (instrumented module on disk now): warm load and its stall;
//   - the main-thread steps of a load, each timed alone: sha256, reading imports/exports
//     (readModuleInfo), WebAssembly.validate, a synchronous compile (new WebAssembly.Module:
//     what the host does not do), WebAssembly.compile (what it does: the stall is measured);
//   - fuel instrumentation (on the worker thread, as the host does it): cold (a worker to
//     start, binaryen.js to load), warm worker with a module not in the cache, and a cache hit;
//   - per-instance memory: the instance's linear memory (pages), and the RSS growth per extra
//     pool instance (pool.min 1 -> 33 after a GC, divided by 32), with the main-thread time of
//     creating one instance.
//
//   taskset -c 1 node benchmarks/micro/cold-prep.mjs            print the table
//   taskset -c 1 node benchmarks/micro/cold-prep.mjs --write    also rewrite the "Cold preparation
//                                                                of a large module" section of docs/benchmarks.md
//
// Run it once, when the machine is quiet: it measures one cold start, which cannot be repeated
// in the same process. SIZE_MB (default 3) sets the module size.
import { createHash } from 'node:crypto'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { cpus, tmpdir } from 'node:os'
import { join, dirname } from 'node:path'
import { fileURLToPath } from 'node:url'
import { monitorEventLoopDelay } from 'node:perf_hooks'
import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'

const here = dirname(fileURLToPath(import.meta.url))
const root = join(here, '../..')
const cache = mkdtempSync(join(tmpdir(), 'wafer-cold-prep-'))
process.env.WAFER_CACHE_DIR = cache

const { pino } = await import('pino')
const { createWafer, readModuleInfo } = await import('@wafer/core')
// The sandbox is not part of @wafer/core's public exports: import the built files directly.
const { instrumentCached } = await import('../../packages/core/dist/sandbox/instrument-cache.js')
const { NATIVE_BUDGET_ENTRIES } = await import('../../packages/core/dist/abi/native/spec.js')
const { bigModule } = await import('../../test/support/big-module.mjs')

setFlagsFromString('--expose-gc')
const gc = runInNewContext('gc')
const logger = pino({ level: 'silent' })
const SIZE = Math.round(Number(process.env.SIZE_MB ?? 3) * 1024 * 1024)
const seed = process.pid % 1000
const module = (n) => bigModule({ bytes: SIZE, seed: seed + n })
const fuelOptions = { fuel: true, budgetEntries: NATIVE_BUDGET_ENTRIES }

/** Runs `fn`, returning its wall time and the longest event-loop stall while it ran. */
async function stalled (fn) {
  const delay = monitorEventLoopDelay({ resolution: 1 })
  // A timer that keeps the loop turning, so a stall shows as one late turn.
  const tick = setInterval(() => {}, 1)
  delay.enable()
  const start = performance.now()
  const value = await fn()
  const ms = performance.now() - start
  delay.disable()
  clearInterval(tick)
  return { ms, stallMs: delay.max / 1e6, value }
}

/** The wall time of a synchronous step, which is all main-thread time. */
function sync (fn) {
  const start = performance.now()
  const value = fn()
  return { ms: performance.now() - start, value }
}

const rows = []
const row = (what, ms, stallMs, note = '') => rows.push({ what, ms, stallMs, note })

// 1. A cold load, first thing in the process: no worker, no binaryen.js, nothing cached.
const bytes = module(0)
const cold = await stalled(() => createWafer({ logger, filters: { big: { module: bytes } } }))
row('cold load: createWafer, fuel metering, empty cache', cold.ms, cold.stallMs, 'instrumented on a worker thread')
await cold.value.close()
const warm = await stalled(() => createWafer({ logger, filters: { big: { module: bytes } } }))
row('warm load: the same module, instrumented module on disk', warm.ms, warm.stallMs)
await warm.value.close()

// 2. The main-thread steps, one at a time (a new module each, so nothing is cached by V8).
const other = module(1)
row('sha256 of the module', sync(() => createHash('sha256').update(other).digest('hex')).ms, undefined, 'main thread')
row('readModuleInfo (imports, exports, memories)', sync(() => readModuleInfo(other)).ms, undefined, 'main thread')
row('WebAssembly.validate', sync(() => WebAssembly.validate(other)).ms, undefined, 'main thread')
row('new WebAssembly.Module (synchronous compile)', sync(() => new WebAssembly.Module(module(2))).ms, undefined, 'main thread; the host does not do this')
const compiled = await stalled(() => WebAssembly.compile(module(3)))
row('WebAssembly.compile (what the host does)', compiled.ms, compiled.stallMs, 'V8 compiles off the main thread')

// 3. Fuel instrumentation on the worker pool. The cold load above started a worker; it may
// have stopped since (10 s idle), so the first row here says which it was.
const fresh = module(4)
const instrumented = await stalled(() => instrumentCached(fresh, fuelOptions))
row('instrument for fuel: warm worker, not in the cache', instrumented.ms, instrumented.stallMs, 'worker thread')
const hit = await stalled(() => instrumentCached(fresh, fuelOptions))
row('instrument for fuel: cache hit (read from disk)', hit.ms, hit.stallMs)
const meteredBytes = hit.value

// 4. Memory: one instance's linear memory, and what each extra pool instance adds to RSS.
const metered = await WebAssembly.compile(meteredBytes)
const one = sync(() => new WebAssembly.Instance(metered, {}))
const pages = one.value.exports.memory.buffer.byteLength / 65536
row('create one instance (new WebAssembly.Instance)', one.ms, undefined, `main thread; linear memory ${pages} page(s) = ${pages * 64} KiB`)
const EXTRA = 32
const pooled = await createWafer({ logger, filters: { big: { module: fresh, pool: { min: 1, max: 64 } } } })
gc(); gc()
const before = process.memoryUsage().rss
const grown = await stalled(() => pooled.reload({ filters: { big: { module: fresh, pool: { min: 1 + EXTRA, max: 64 } } } }))
gc(); gc()
const after = process.memoryUsage().rss
const perInstance = (after - before) / EXTRA
row(`reload to pool.min ${1 + EXTRA} (instances created on the main thread)`, grown.ms, grown.stallMs, `RSS +${mb(after - before)} MB: ${kb(perInstance)} KiB per extra instance`)
await pooled.close()

function mb (n) { return (n / 1024 / 1024).toFixed(1) }
function kb (n) { return Math.round(n / 1024).toLocaleString('en-US') }
const fmt = (ms) => ms === undefined ? '-' : ms >= 1000 ? `${(ms / 1000).toFixed(2)} s` : `${ms.toFixed(ms < 10 ? 1 : 0)} ms`

const header = `Measured ${new Date().toISOString().slice(0, 10)} on ${cpus()[0]?.model.trim() ?? 'unknown CPU'}, ${cpus().length} cores, Node ${process.version}; ` +
  `one generated ${mb(bytes.length)} MB module, one run, pinned to one core.`
const table = [
  header,
  '',
  '| step | time | event loop blocked at most | notes |',
  '| --- | ---: | ---: | --- |',
  ...rows.map((r) => `| ${r.what} | ${fmt(r.ms)} | ${fmt(r.stallMs)} | ${r.note} |`)
].join('\n')
console.log(table)
rmSync(cache, { recursive: true, force: true })

if (process.argv.includes('--write')) {
  const docs = join(root, 'docs/benchmarks.md')
  const text = readFileSync(docs, 'utf8')
  const begin = '<!-- cold-prep:begin -->'
  const end = '<!-- cold-prep:end -->'
  const at = text.indexOf(begin)
  const to = text.indexOf(end)
  if (at === -1 || to === -1) throw new Error(`${docs} has no ${begin} ... ${end} markers`)
  writeFileSync(docs, `${text.slice(0, at + begin.length)}\n${table}\n${text.slice(to)}`)
  console.log(`wrote ${docs}`)
}
// The instrumentation worker would keep the process for its idle time.
process.exit(0)
