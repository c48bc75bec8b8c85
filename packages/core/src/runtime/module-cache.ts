import { createHash } from 'node:crypto'
import { readFile } from 'node:fs/promises'
import { LRUCache } from 'lru-cache'
import { describe, waferError } from '../errors.js'
import { readModuleInfo, type ModuleInfo } from '../wasm/binary.js'

/** A rewrite applied before compiling (the sandbox's instrumentation), cached under `key`. */
export interface ModuleTransform {
  key: string
  apply (bytes: Uint8Array): Promise<Uint8Array>
}

export interface CompiledModule {
  /** sha256 of the module as given (before any transform): what identifies it to users. */
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

  /**
   * Compiles `bytes`, or the result of `transform` on them. The cache key is the sha256 of the
   * bytes as given plus the transform's key, so an instrumented module is built once per
   * module and settings. The module as given is compiled (and so validated) first, and shared
   * by every transform of it: a caller checks its imports and exports with
   * `compile(bytes, source)` before paying for a transform.
   */
  compile (bytes: Uint8Array, source: string, transform?: ModuleTransform): Promise<CompiledModule> {
    return this.#entry(createHash('sha256').update(bytes).digest('hex'), bytes, source, transform)
  }

  get size (): number {
    return this.#cache.size
  }

  #entry (sha256: string, bytes: Uint8Array, source: string, transform: ModuleTransform | undefined): Promise<CompiledModule> {
    const key = transform === undefined ? sha256 : `${sha256}:${transform.key}`
    let entry = this.#cache.get(key)
    if (entry === undefined) {
      entry = transform === undefined
        ? compile(bytes, source, sha256)
        : this.#entry(sha256, bytes, source, undefined).then((original) => transformed(original, bytes, source, transform))
      this.#cache.set(key, entry)
      entry.catch(() => this.#cache.delete(key))
    }
    return entry
  }
}

async function compile (bytes: Uint8Array, source: string, sha256: string): Promise<CompiledModule> {
  let module: WebAssembly.Module
  try {
    // The original must be valid wasm before anything rewrites it.
    module = await WebAssembly.compile(bytes as Uint8Array<ArrayBuffer>)
  } catch (err) {
    throw waferError('WAFER_ERR_MODULE_INVALID', [source, describe(err)], { cause: err })
  }
  let info: ModuleInfo
  try {
    // Imports and exports as the author wrote them: what the ABI is checked against.
    info = readModuleInfo(bytes)
  } catch (err) {
    throw waferError('WAFER_ERR_MODULE_INVALID', [source, describe(err)], { cause: err })
  }
  return { sha256, size: bytes.length, module, info }
}

async function transformed (original: CompiledModule, bytes: Uint8Array, source: string, transform: ModuleTransform): Promise<CompiledModule> {
  try {
    const module = await WebAssembly.compile(await transform.apply(bytes) as Uint8Array<ArrayBuffer>)
    return { ...original, module }
  } catch (err) {
    throw waferError('WAFER_ERR_MODULE_LIMITS', [source, describe(err)], { cause: err })
  }
}
