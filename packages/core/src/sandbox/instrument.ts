import { expressionKinds, type ExpressionKinds } from './expression-children.js'
import { addFuelMetering } from './fuel-pass.js'
import { loadBinaryen, type Binaryen } from './load-binaryen.js'
import { capMemory } from './memory-cap.js'
import { customSectionNames } from './wasm-sections.js'

export interface InstrumentOptions {
  /** Meter the guest with a fuel counter (see fuel-pass.ts for the cost model; budget.ts for the host side). */
  fuel: boolean
  /** Cap linear memory at this many 64 KiB pages (0..65536). */
  memoryPages?: number
  /**
   * Fuel for the module's start function, which runs inside `new WebAssembly.Instance` before
   * the host can set a budget: the initial value of `wafer_fuel`. Default DEFAULT_START_FUEL.
   */
  startFuel?: number
}

export interface InstrumentedModule {
  bytes: Uint8Array<ArrayBuffer>
  fuel: boolean
  memoryPages: number | undefined
}

/**
 * About 25 ms of the tightest possible loop (benchmarks machine); the start functions of the
 * AssemblyScript example filters are charged about 100,000.
 */
export const DEFAULT_START_FUEL = 100_000_000

/**
 * What the guest may use. All of it is in Node.js 20; anything else (exceptions, GC, threads,
 * memory64) is refused rather than metered wrongly.
 */
const FEATURES = (b: Binaryen): number =>
  b.Features.MutableGlobals | b.Features.NontrappingFPToInt | b.Features.SignExt | b.Features.BulkMemory |
  b.Features.BulkMemoryOpt | b.Features.SIMD128 | b.Features.Multivalue | b.Features.ReferenceTypes | b.Features.TailCall

let kinds: ExpressionKinds | undefined

function checkOptions (options: InstrumentOptions): void {
  if (typeof options?.fuel !== 'boolean') throw new TypeError(`instrumentModule: options.fuel must be a boolean, got ${String(options?.fuel)}`)
  const { memoryPages, startFuel } = options
  if (memoryPages !== undefined && !(Number.isInteger(memoryPages) && memoryPages >= 0 && memoryPages <= 65536)) {
    throw new RangeError(`instrumentModule: options.memoryPages must be an integer from 0 to 65536, got ${String(memoryPages)}`)
  }
  if (startFuel !== undefined && !(Number.isSafeInteger(startFuel) && startFuel >= 0)) {
    throw new RangeError(`instrumentModule: options.startFuel must be a non-negative safe integer, got ${String(startFuel)}`)
  }
}

/**
 * Rewrites a module for the sandbox: a memory cap and/or fuel metering. The result is a valid
 * module with the same imports and the same exports (names and signatures), plus, with fuel,
 * the globals `wafer_fuel` (i64) and `wafer_fuel_exhausted` (i32) and the function
 * `wafer_fuel_set(i64)`. The same bytes and options always give the same output bytes.
 *
 * Throws an Error with a readable message when the module cannot be sandboxed: not valid wasm,
 * memory imported, initial memory above the cap, or an instruction the fuel pass does not know.
 */
export async function instrumentModule (bytes: Uint8Array, options: InstrumentOptions): Promise<InstrumentedModule> {
  checkOptions(options)
  const copy = bytes.slice()
  if (!WebAssembly.validate(copy)) throw new Error('not a valid WebAssembly module')
  let out = copy
  if (options.memoryPages !== undefined) out = capMemory(out, options.memoryPages)
  if (options.fuel) out = await meter(out, options.startFuel ?? DEFAULT_START_FUEL)
  return { bytes: out, fuel: options.fuel, memoryPages: options.memoryPages }
}

async function meter (bytes: Uint8Array, startFuel: number): Promise<Uint8Array<ArrayBuffer>> {
  const binaryen = await loadBinaryen()
  kinds ??= expressionKinds(binaryen)
  let mod
  try {
    // binaryen.js 132 takes the features as readBinary's second argument (its typings name a
    // readBinaryWithFeatures that the build does not have).
    const read = binaryen.readBinary as (data: Uint8Array, features: number) => ReturnType<Binaryen['readBinary']>
    mod = read(bytes, FEATURES(binaryen))
  } catch (err) {
    throw new Error(`binaryen cannot read the module: ${err instanceof Error ? err.message : JSON.stringify(err)}`)
  }
  try {
    if (mod.validate() !== 1) throw new Error('binaryen rejects the module: it uses a WebAssembly feature the sandbox does not meter (threads, exceptions, GC, memory64, ...)')
    addFuelMetering(binaryen, kinds, mod, startFuel)
    // Keep function names for stack traces when the input had them; binaryen's switch is global.
    const names = customSectionNames(bytes).includes('name')
    const debugInfo = binaryen.getDebugInfo()
    binaryen.setDebugInfo(names)
    let out: Uint8Array<ArrayBuffer>
    try {
      out = mod.emitBinary() as Uint8Array<ArrayBuffer>
    } finally {
      binaryen.setDebugInfo(debugInfo)
    }
    // V8 validates the output some 30 times faster than binaryen's validator (8 against 250 ms
    // for a 3 MB module), and it is the validator the module must pass.
    if (!WebAssembly.validate(out)) throw new Error('the instrumented module does not validate (a bug in the fuel pass)')
    return out
  } finally {
    mod.dispose()
  }
}
