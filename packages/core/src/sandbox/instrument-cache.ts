import { createHash, randomBytes } from 'node:crypto'
import { readdirSync, readFileSync } from 'node:fs'
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises'
import { createRequire } from 'node:module'
import { homedir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { InstrumentOptions } from './instrument.js'

/**
 * Instrumented modules kept on disk, so a restart (or another process: a cluster worker, a
 * test file) does not load binaryen.js (15 MB, hundreds of ms) and re-run the pass for a module
 * it has already seen. The key covers the module's bytes, the options, this sandbox's own
 * source and the binaryen version: a changed instrumenter never reads an old result.
 *
 * The directory is `WAFER_CACHE_DIR`, else `~/.cache/wafer` (per user, not a shared /tmp, so
 * another user cannot plant a module there). `WAFER_CACHE_DIR=off` disables it. Failing to read
 * or write the cache only costs time: the module is instrumented in memory as without it.
 */
export async function instrumentCached (bytes: Uint8Array, options: InstrumentOptions): Promise<Uint8Array> {
  const dir = cacheDir()
  const file = dir === undefined ? undefined : join(dir, `${entryKey(bytes, options)}.wasm`)
  if (file !== undefined) {
    try {
      const cached = await readFile(file)
      if (WebAssembly.validate(cached)) return cached
    } catch {
      // not cached yet
    }
  }
  const { instrumentModule } = await import('./instrument.js')
  const { bytes: out } = await instrumentModule(bytes, options)
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

function cacheDir (): string | undefined {
  const configured = process.env.WAFER_CACHE_DIR
  if (configured === 'off') return undefined
  if (configured !== undefined && configured !== '') return configured
  return join(homedir(), '.cache', 'wafer', 'instrumented')
}

let version: string | undefined

/** What the output depends on besides the input: this folder's code and binaryen's version. */
function instrumenterVersion (): string {
  if (version === undefined) {
    const here = dirname(fileURLToPath(import.meta.url))
    const hash = createHash('sha256')
    for (const name of readdirSync(here).filter((n) => /\.(js|ts)$/.test(n) && !n.endsWith('.d.ts')).sort()) {
      hash.update(name).update(readFileSync(join(here, name)))
    }
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

function entryKey (bytes: Uint8Array, options: InstrumentOptions): string {
  return createHash('sha256')
    .update(instrumenterVersion())
    .update(JSON.stringify(options))
    .update(bytes)
    .digest('hex')
    .slice(0, 40)
}
