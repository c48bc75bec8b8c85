#!/usr/bin/env node
// Compiles every guest from source: example filters (AssemblyScript) and test fixtures
// (AssemblyScript or WAT). Binaries are build outputs and never committed.
//
//   examples/filters/<name>/assembly/index.ts -> examples/filters/<name>/build/<name>.wasm
//   test/fixtures/guests/<name>.ts            -> test/fixtures/build/<name>.wasm
//   test/fixtures/guests/<name>.wat           -> test/fixtures/build/<name>.wasm
//
// An AssemblyScript guest's first line may add asc flags (`// asc: --flag value`) and name
// another AssemblyScript release installed under an npm alias (`// asc[assemblyscript-0.14]: ...`),
// for SDKs that need it: @solo-io/proxy-runtime is written for AssemblyScript 0.14.
//
// Usage: node scripts/build-guests.mjs [name-filter] [--force] [--root <dir>]
//
// Incremental: beside each output, `<name>.wasm.stamp` records what the build depended on: the
// compiler versions, this script, and every file the compiler read (or looked for and did not
// find) with its sha256. A guest is rebuilt only when one of those changed or its output is
// missing or altered. Recording the reads, rather than guessing them, makes the key cover every
// source that shapes the output: the guest's own files, the SDK files it imports, a relative
// import of a fixture. `--root` points the build at another tree (the tests use a small one).
import { createHash, randomBytes } from 'node:crypto'
import { readdirSync, existsSync, mkdirSync, readFileSync, writeFileSync, statSync, renameSync, rmSync, realpathSync } from 'node:fs'
import { join, dirname, basename, relative, resolve, isAbsolute } from 'node:path'
import { fileURLToPath } from 'node:url'
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads'

const scriptFile = fileURLToPath(import.meta.url)
const repoRoot = join(dirname(scriptFile), '..')

// The SDK routes AssemblyScript's abort() to the host's log import, so guests import only "wafer".
const SDK_ABORT = 'abort=~lib/@wafer/sdk-assemblyscript/assembly/abort/waferAbort'
const WAT_FEATURES = { mutable_globals: true, bulk_memory: true }
const DEFAULT_COMPILER = 'assemblyscript'
/**
 * The AssemblyScript releases a guest may ask for, with the flags every guest of that release
 * gets. 0.14 has no incremental runtime (its `full` one is what @solo-io/proxy-runtime's
 * `malloc` is written against) and its guests route abort() themselves.
 */
const COMPILERS = {
  assemblyscript: { base: ['--runtime', 'incremental', '--use', SDK_ABORT] },
  'assemblyscript-0.14': { base: ['--runtime', 'full'] }
}
const FIRST_LINE = /^\/\/\s*asc(?:\[([\w.@/-]+)\])?:\s*(.*)$/

/** The first line's `// asc[compiler]: flags`, if the guest has one. */
function firstLine (job) {
  const first = readFileSync(job.entry, 'utf8').split('\n', 1)[0] ?? ''
  const m = FIRST_LINE.exec(first)
  return m === null ? { compiler: DEFAULT_COMPILER, flags: [] } : { compiler: m[1] ?? DEFAULT_COMPILER, flags: m[2].trim().split(/\s+/).filter(Boolean) }
}

/** The AssemblyScript package (a name in COMPILERS) that compiles `job`. */
export function guestCompiler (job) {
  const { compiler } = firstLine(job)
  if (!Object.hasOwn(COMPILERS, compiler)) throw new Error(`${job.entry}: unknown compiler "${compiler}" in its first line; known: ${Object.keys(COMPILERS).join(', ')}`)
  return compiler
}

/** Every guest under `root`, optionally only those whose name contains `only`. */
export function listGuests (root, only) {
  const out = []
  const filtersDir = join(root, 'examples/filters')
  if (existsSync(filtersDir)) {
    for (const name of readdirSync(filtersDir).sort()) {
      const entry = join(filtersDir, name, 'assembly/index.ts')
      if (existsSync(entry)) out.push({ kind: 'as', name, entry, outFile: join(filtersDir, name, 'build', `${name}.wasm`) })
    }
  }
  const fixturesDir = join(root, 'test/fixtures/guests')
  if (existsSync(fixturesDir)) {
    for (const file of readdirSync(fixturesDir).sort()) {
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

/** The asc arguments for one guest, with the fixture's own `// asc: --flag value` first line. */
export function ascArgs (root, job) {
  const args = [
    relative(root, job.entry),
    '--outFile', relative(root, job.outFile),
    '--optimizeLevel', '3',
    '--shrinkLevel', '0',
    '--converge',
    '--noAssert',
    ...COMPILERS[guestCompiler(job)].base
  ]
  args.push(...firstLine(job).flags)
  return args
}

/** The version of package `name` as Node would resolve it from `fromDir`, or 'missing'. */
function packageVersion (name, fromDir) {
  for (let dir = fromDir; ; dir = dirname(dir)) {
    const file = join(dir, 'node_modules', name, 'package.json')
    if (existsSync(file)) return { version: JSON.parse(readFileSync(file, 'utf8')).version, dir: realpathSync(dirname(file)) }
    if (dirname(dir) === dir) return { version: 'missing', dir: undefined }
  }
}

/**
 * What every output depends on besides its inputs: the compilers (assemblyscript and the
 * binaryen it optimizes with; wabt) and this script, which holds the flags. Read from
 * package.json files, so an up-to-date run never loads a compiler.
 */
export function toolchain () {
  const script = sha256(readFileSync(scriptFile))
  const as = {}
  for (const name of Object.keys(COMPILERS)) {
    const pkg = packageVersion(name, dirname(scriptFile))
    const binaryen = pkg.dir === undefined ? { version: 'missing' } : packageVersion('binaryen', pkg.dir)
    as[name] = `${name}@${pkg.version} binaryen@${binaryen.version} script:${script}`
  }
  const wabt = packageVersion('wabt', dirname(scriptFile))
  return {
    as,
    wat: `wabt@${wabt.version} features:${JSON.stringify(WAT_FEATURES)} script:${script}`
  }
}

function sha256 (data) {
  return createHash('sha256').update(data).digest('hex')
}

/** sha256 of a file's bytes, or null when it does not exist (a miss is an input too). */
function fileHash (path, memo) {
  let h = memo.get(path)
  if (h === undefined) {
    try {
      h = sha256(readFileSync(path))
    } catch {
      h = null
    }
    memo.set(path, h)
  }
  return h
}

/** The part of the key known before building: compiler, script and command line. */
export function commandKey (root, job, tools) {
  const command = job.kind === 'as' ? [tools.as[guestCompiler(job)], ...ascArgs(root, job)] : [tools.wat, relative(root, job.entry)]
  return sha256(JSON.stringify(command))
}

function stampFile (job) {
  return `${job.outFile}.stamp`
}

/**
 * Why `job` must be built, or null when its output is up to date. `memo` caches file hashes
 * for the run (the SDK files are shared by every AssemblyScript guest).
 */
export function staleReason (root, job, tools, memo = new Map()) {
  let stamp
  try {
    stamp = JSON.parse(readFileSync(stampFile(job), 'utf8'))
  } catch {
    return 'never built'
  }
  if (stamp.command !== commandKey(root, job, tools)) return 'compiler, flags or build script changed'
  if (fileHash(job.outFile, memo) !== stamp.output) return 'output missing or changed'
  for (const [path, hash] of stamp.inputs) {
    if (fileHash(resolve(root, path), memo) !== hash) return `${path} changed`
  }
  return null
}

/** Writes then renames: a reader (a test, a running gateway) sees the old file or the new one. */
function writeAtomic (file, data) {
  mkdirSync(dirname(file), { recursive: true })
  const tmp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`
  try {
    writeFileSync(tmp, data)
    renameSync(tmp, file)
  } catch (err) {
    rmSync(tmp, { force: true })
    throw err
  }
}

async function buildAs (asc, root, job) {
  const reads = new Map()
  const readFile = (name, baseDir) => {
    const path = resolve(baseDir, name)
    let bytes = null
    try {
      bytes = readFileSync(path)
    } catch {
      // asc probes several candidates (x.ts, x/index.ts, each node_modules): a miss is recorded
    }
    reads.set(path, bytes === null ? null : sha256(bytes))
    return bytes === null ? null : bytes.toString('utf8')
  }
  const writeFile = (name, contents, baseDir) => {
    writeAtomic(resolve(baseDir, name), contents)
    return true
  }
  const listFiles = (dir, baseDir) => {
    try {
      return readdirSync(resolve(baseDir, dir)).filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts'))
    } catch {
      return null
    }
  }
  const stderr = asc.createMemoryStream()
  const argv = ['--baseDir', root, ...ascArgs(root, job)]
  const io = { stdout: asc.createMemoryStream(), stderr, readFile, writeFile, listFiles }
  // 0.14's asc (CommonJS) answers through a callback once binaryen is ready; later ones return a promise.
  const error = asc.ready === undefined
    ? (await asc.main(argv, io)).error
    : await asc.ready.then(() => new Promise((resolve) => { asc.main(argv, io, (err) => { resolve(err) }) }))
  if (error) throw new Error(`asc failed for ${relative(root, job.entry)}:\n${stderr.toString()}`)
  return reads
}

async function buildWat (wabt, job) {
  const bytes = readFileSync(job.entry)
  const mod = wabt.parseWat(basename(job.entry), bytes.toString('utf8'), WAT_FEATURES)
  try {
    mod.resolveNames()
    mod.validate()
    writeAtomic(job.outFile, Buffer.from(mod.toBinary({}).buffer))
  } finally {
    mod.destroy()
  }
  return new Map([[job.entry, sha256(bytes)]])
}

/**
 * Builds the guests under `root` that are out of date. Returns the names built, up to date and
 * failed (with the compiler's message on stderr).
 */
export async function buildGuests ({ root = repoRoot, only, force = false, log = console } = {}) {
  const list = listGuests(root, only)
  const tools = toolchain()
  const memo = new Map()
  // asc keeps what a `--config` adds (the WASI shim's library files) for the compilations that
  // follow in the same process, where they break guests that never asked for them: build the
  // guests that bring their own config last.
  const ownConfig = (job) => job.kind === 'as' && ascArgs(root, job).includes('--config')
  const stale = force ? list : list.filter((job) => staleReason(root, job, tools, memo) !== null)
  const todo = [...stale.filter((job) => !ownConfig(job)), ...stale.filter(ownConfig)]
  const result = { built: [], upToDate: list.filter((j) => !todo.includes(j)).map((j) => j.name), failed: [] }
  let asc
  // An older release runs in a worker thread of its own: it defines globals (`signbit`, ...) the
  // current one defines too, so in one realm whichever loads second fails to load.
  const legacy = new Map()
  const build = async (job) => {
    const name = guestCompiler(job)
    if (name === DEFAULT_COMPILER) return await buildAs(asc ??= await import('assemblyscript/asc'), root, job)
    if (!legacy.has(name)) legacy.set(name, new LegacyCompiler(name))
    return await legacy.get(name).build(root, job)
  }
  const wabt = todo.some((j) => j.kind === 'wat') ? await (await import('wabt')).default() : null
  for (const job of todo) {
    try {
      rmSync(stampFile(job), { force: true })
      const reads = job.kind === 'as' ? await build(job) : await buildWat(wabt, job)
      const inputs = [...reads].map(([path, hash]) => {
        const rel = relative(root, path)
        return [isAbsolute(rel) ? path : rel, hash]
      }).sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))
      const output = sha256(readFileSync(job.outFile))
      const lines = inputs.map((input) => `  ${JSON.stringify(input)}`).join(',\n')
      const command = commandKey(root, job, tools)
      writeAtomic(stampFile(job), `{"command": "${command}", "output": "${output}", "inputs": [\n${lines}\n]}\n`)
      result.built.push(job.name)
    } catch (err) {
      result.failed.push(job.name)
      log.error(String(err && err.message ? err.message : err))
    }
  }
  for (const compiler of legacy.values()) await compiler.close()
  return result
}

/** An older AssemblyScript's asc (CommonJS, `cli/asc.js`), installed under the alias `name`. */
async function loadLegacyAsc (name) {
  const { createRequire } = await import('node:module')
  return createRequire(scriptFile)(`${name}/cli/asc.js`)
}

/** An older AssemblyScript release in a worker thread (this script), one guest at a time. */
class LegacyCompiler {
  #worker
  #pending = null

  constructor (name) {
    this.#worker = new Worker(scriptFile, { workerData: { legacyCompiler: name } })
    this.#worker.on('message', (m) => {
      const p = this.#pending
      this.#pending = null
      if (m.error !== undefined) p?.reject(new Error(m.error))
      else p?.resolve(new Map(m.reads))
    })
    this.#worker.on('error', (err) => { this.#pending?.reject(err); this.#pending = null })
    this.#worker.on('exit', (code) => { this.#pending?.reject(new Error(`the ${name} compiler exited with ${code}`)); this.#pending = null })
  }

  build (root, job) {
    return new Promise((resolve, reject) => {
      this.#pending = { resolve, reject }
      this.#worker.postMessage({ root, job })
    })
  }

  async close () {
    await this.#worker.terminate()
  }
}

if (!isMainThread && workerData?.legacyCompiler !== undefined) {
  const asc = await loadLegacyAsc(workerData.legacyCompiler)
  parentPort.on('message', async ({ root, job }) => {
    try {
      parentPort.postMessage({ reads: [...await buildAs(asc, root, job)] })
    } catch (err) {
      parentPort.postMessage({ error: String(err && err.message ? err.message : err) })
    }
  })
}

if (isMainThread && process.argv[1] && resolve(process.argv[1]) === scriptFile) {
  const args = process.argv.slice(2)
  const force = args.includes('--force')
  const rootAt = args.indexOf('--root')
  const root = rootAt >= 0 ? resolve(args[rootAt + 1]) : repoRoot
  const only = args.find((a, i) => !a.startsWith('--') && (rootAt < 0 || i !== rootAt + 1))
  const started = Date.now()
  const { built, upToDate, failed } = await buildGuests({ root, only, force })
  const names = (list) => (list.length > 0 && list.length <= 8 ? ` (${list.join(', ')})` : '')
  console.log(`build-guests: built ${built.length}${names(built)}, up to date ${upToDate.length}` +
    `${failed.length ? `, FAILED ${failed.length}${names(failed)}` : ''} in ${Date.now() - started} ms`)
  if (failed.length) process.exit(1)
}
