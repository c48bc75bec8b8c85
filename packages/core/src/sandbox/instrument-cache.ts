import { createHash, randomBytes } from 'node:crypto'
import { existsSync, readFileSync } from 'node:fs'
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises'
import { createRequire } from 'node:module'
import { homedir } from 'node:os'
import { dirname, join, relative, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { resolveInstrumentOptions, type InstrumentOptions, type ResolvedInstrumentOptions } from './instrument-options.js'
import { instrumentOffThread } from './instrument-pool.js'

export interface InstrumentCachedOptions {
  /** Called when the module is not in the cache and is about to be instrumented (the slow path). */
  onMiss?: () => void
}

/**
 * Instrumented modules kept on disk, so a restart (or another process: a cluster worker, a
 * test file) does not load binaryen.js (15 MB, hundreds of ms) and re-run the pass for a module
 * it has already seen. The key covers the module's bytes, the options (resolved: the budget
 * entries sorted, defaults filled in, so equal options share an entry), every source file the
 * instrumenter is built from (instrumenterVersion) and the binaryen version: a changed
 * instrumenter never reads an old result.
 *
 * The directory is `WAFER_CACHE_DIR`, else `~/.cache/wafer` (per user, not a shared /tmp, so
 * another user cannot plant a module there). `WAFER_CACHE_DIR=off` disables it. Failing to read
 * or write the cache only costs time: the module is instrumented in memory as without it.
 * Instrumenting runs on a worker thread (instrument-pool.ts).
 */
export async function instrumentCached (bytes: Uint8Array, options: InstrumentOptions, hooks: InstrumentCachedOptions = {}): Promise<Uint8Array> {
  const resolved = resolveInstrumentOptions(options)
  const dir = cacheDir()
  const file = dir === undefined ? undefined : join(dir, `${entryKey(bytes, resolved)}.wasm`)
  if (file !== undefined) {
    try {
      const cached = await readFile(file)
      if (WebAssembly.validate(cached)) return cached
    } catch {
      // not cached yet
    }
  }
  hooks.onMiss?.()
  const out = await instrumentOffThread(bytes, resolved)
  if (file !== undefined) {
    try {
      await mkdir(dirname(file), { recursive: true })
      // Write then rename: a concurrent reader sees the old state or the whole file, never half.
      const tmp = `${file}.${randomBytes(6).toString('hex')}.tmp`
      await writeFile(tmp, out)
      await rename(tmp, file)
    } catch {
      // a read-only home or a full disk: instrument again next time
    }
  }
  return out
}

export function cacheDir (): string | undefined {
  const configured = process.env.WAFER_CACHE_DIR
  if (configured === 'off') return undefined
  if (configured !== undefined && configured !== '') return configured
  return join(homedir(), '.cache', 'wafer', 'instrumented')
}

let version: string | undefined

/**
 * What the output depends on besides the input: the worker's entry point and every module it
 * imports, transitively (the sandbox, and the binary reader in wasm/ it shares with abi/ and runtime/), plus
 * binaryen's version. From dist that is the built .js files, from source the .ts files.
 */
export function instrumenterVersion (): string {
  if (version === undefined) {
    const here = fileURLToPath(import.meta.url)
    const entry = join(dirname(here), here.endsWith('.ts') ? 'instrument-worker.ts' : 'instrument-worker.js')
    const hash = createHash('sha256').update(sourceDigest(entry))
    try {
      const main = createRequire(import.meta.url).resolve('binaryen')
      hash.update(readFileSync(join(dirname(main), 'package.json')))
    } catch {
      hash.update('binaryen:unknown')
    }
    version = hash.digest('hex')
  }
  return version
}

// Value imports and re-exports of relative modules, static or dynamic; `import type` is erased by the build.
const STATIC_IMPORT = /(?:^|[\n;])\s*(?:import|export)\s+(type\s+)?[^'"]*?\sfrom\s+['"](\.{1,2}\/[^'"]+)['"]/g
const DYNAMIC_IMPORT = /\bimport\(\s*['"](\.{1,2}\/[^'"]+)['"]\s*\)/g

/**
 * A sha256 over `entry` and every relative module it imports, transitively, in a stable
 * order. A `.js` specifier that does not exist is read as the `.ts` file next to it (source
 * under tsx).
 */
export function sourceDigest (entry: string): string {
  const seen = new Set<string>()
  const pending = [resolve(entry)]
  while (pending.length > 0) {
    const file = pending.pop() as string
    if (seen.has(file)) continue
    seen.add(file)
    const text = readFileSync(file, 'utf8')
    const specifiers = [
      ...[...text.matchAll(STATIC_IMPORT)].filter((m) => m[1] === undefined).map((m) => m[2] as string),
      ...[...text.matchAll(DYNAMIC_IMPORT)].map((m) => m[1] as string)
    ]
    for (const specifier of specifiers) {
      const target = resolve(dirname(file), specifier)
      pending.push(!existsSync(target) && target.endsWith('.js') ? `${target.slice(0, -3)}.ts` : target)
    }
  }
  const root = dirname(resolve(entry))
  const hash = createHash('sha256')
  for (const file of [...seen].sort()) hash.update(relative(root, file)).update('\0').update(readFileSync(file)).update('\0')
  return hash.digest('hex')
}

export function entryKey (bytes: Uint8Array, options: ResolvedInstrumentOptions): string {
  return createHash('sha256')
    .update(instrumenterVersion())
    .update(JSON.stringify([options.fuel, options.memoryPages ?? null, options.startFuel, options.budgetEntries]))
    .update(bytes)
    .digest('hex')
    .slice(0, 40)
}
