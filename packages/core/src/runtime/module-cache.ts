import { createHash } from 'node:crypto'
import { readFile } from 'node:fs/promises'
import { LRUCache } from 'lru-cache'
import { describe, waferError } from '../errors.js'
import { readModuleInfo, type ModuleInfo } from './wasm-binary.js'

export interface CompiledModule {
  sha256: string
  size: number
  module: WebAssembly.Module
  info: ModuleInfo
}

/** Reads a module from a path, or takes the bytes given. `source` names it in errors. */
export async function readModuleSource (module: string | Uint8Array): Promise<{ bytes: Uint8Array, source: string }> {
  if (typeof module !== 'string') return { bytes: module, source: '<bytes>' }
  try {
    return { bytes: await readFile(module), source: module }
  } catch (err) {
    const reason = (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : describe(err)
    throw waferError('WAFER_ERR_MODULE_READ', [module, reason], { cause: err })
  }
}

/**
 * Compiles each distinct module once, keyed by the sha256 of its bytes, however many filters
 * or reloads use it. Failed compilations are not cached.
 */
export class ModuleCache {
  readonly #cache: LRUCache<string, Promise<CompiledModule>>

  constructor (maxModules = 64) {
    this.#cache = new LRUCache({ max: maxModules })
  }

  compile (bytes: Uint8Array, source: string): Promise<CompiledModule> {
    const sha256 = createHash('sha256').update(bytes).digest('hex')
    let entry = this.#cache.get(sha256)
    if (entry === undefined) {
      entry = compile(bytes, source, sha256)
      this.#cache.set(sha256, entry)
      entry.catch(() => this.#cache.delete(sha256))
    }
    return entry
  }

  get size (): number {
    return this.#cache.size
  }
}

async function compile (bytes: Uint8Array, source: string, sha256: string): Promise<CompiledModule> {
  let module: WebAssembly.Module
  try {
    module = await WebAssembly.compile(bytes as Uint8Array<ArrayBuffer>)
  } catch (err) {
    throw waferError('WAFER_ERR_MODULE_INVALID', [source, describe(err)], { cause: err })
  }
  let info: ModuleInfo
  try {
    info = readModuleInfo(bytes)
  } catch (err) {
    throw waferError('WAFER_ERR_MODULE_INVALID', [source, describe(err)], { cause: err })
  }
  return { sha256, size: bytes.length, module, info }
}
