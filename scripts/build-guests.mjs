#!/usr/bin/env node
// Compiles every guest from source: example filters (AssemblyScript) and test fixtures
// (AssemblyScript or WAT). Binaries are build outputs and never committed.
//
//   examples/filters/<name>/assembly/index.ts -> examples/filters/<name>/build/<name>.wasm
//   test/fixtures/guests/<name>.ts            -> test/fixtures/build/<name>.wasm
//   test/fixtures/guests/<name>.wat           -> test/fixtures/build/<name>.wasm
//
// Usage: node scripts/build-guests.mjs [name-filter]
import { readdirSync, existsSync, mkdirSync, readFileSync, writeFileSync, statSync } from 'node:fs'
import { join, dirname, basename, relative } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const only = process.argv[2]

// The SDK routes AssemblyScript's abort() to the host's log import, so guests import only "wafer".
const SDK_ABORT = 'abort=~lib/@wafer/sdk-assemblyscript/assembly/abort/waferAbort'

function jobs () {
  const out = []
  const filtersDir = join(root, 'examples/filters')
  if (existsSync(filtersDir)) {
    for (const name of readdirSync(filtersDir)) {
      const entry = join(filtersDir, name, 'assembly/index.ts')
      if (existsSync(entry)) out.push({ kind: 'as', name, entry, outFile: join(filtersDir, name, 'build', `${name}.wasm`) })
    }
  }
  const fixturesDir = join(root, 'test/fixtures/guests')
  if (existsSync(fixturesDir)) {
    for (const file of readdirSync(fixturesDir)) {
      const entry = join(fixturesDir, file)
      if (!statSync(entry).isFile()) continue
      const name = basename(file).replace(/\.(ts|wat)$/, '')
      const outFile = join(root, 'test/fixtures/build', `${name}.wasm`)
      if (file.endsWith('.wat')) out.push({ kind: 'wat', name, entry, outFile })
      else if (file.endsWith('.ts')) out.push({ kind: 'as', name, entry, outFile })
    }
  }
  return only ? out.filter((j) => j.name.includes(only)) : out
}

async function buildAs (asc, job) {
  const args = [
    relative(root, job.entry),
    '--outFile', relative(root, job.outFile),
    '--optimizeLevel', '3',
    '--shrinkLevel', '0',
    '--converge',
    '--noAssert',
    '--runtime', 'incremental',
    '--use', SDK_ABORT
  ]
  // A fixture may ask for extra asc flags in its first line: `// asc: --flag value`
  const first = readFileSync(job.entry, 'utf8').split('\n', 1)[0] ?? ''
  const m = /^\/\/\s*asc:\s*(.*)$/.exec(first)
  if (m) args.push(...m[1].trim().split(/\s+/))
  const stderr = asc.createMemoryStream()
  const { error } = await asc.main(args, { stdout: asc.createMemoryStream(), stderr })
  if (error) throw new Error(`asc failed for ${relative(root, job.entry)}:\n${stderr.toString()}`)
}

async function buildWat (wabt, job) {
  const mod = wabt.parseWat(basename(job.entry), readFileSync(job.entry, 'utf8'), { mutable_globals: true, bulk_memory: true })
  try {
    mod.resolveNames()
    mod.validate()
    writeFileSync(job.outFile, Buffer.from(mod.toBinary({}).buffer))
  } finally {
    mod.destroy()
  }
}

const list = jobs()
const started = Date.now()
const asc = list.some((j) => j.kind === 'as') ? await import('assemblyscript/asc') : null
const wabt = list.some((j) => j.kind === 'wat') ? await (await import('wabt')).default() : null
let failed = 0
for (const job of list) {
  mkdirSync(dirname(job.outFile), { recursive: true })
  try {
    if (job.kind === 'as') await buildAs(asc, job)
    else await buildWat(wabt, job)
  } catch (err) {
    failed++
    console.error(String(err && err.message ? err.message : err))
  }
}
console.log(`build-guests: ${list.length - failed}/${list.length} guests built in ${Date.now() - started} ms`)
if (failed) process.exit(1)
