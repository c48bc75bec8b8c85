import { expressionKinds, type ExpressionKinds } from './expression-children.js'
import { addFuelMetering, BUDGET_ENTRIES_SECTION } from './fuel-pass.js'
import { resolveInstrumentOptions, type InstrumentOptions, type ResolvedInstrumentOptions } from './instrument-options.js'
import { loadBinaryen, type Binaryen } from './load-binaryen.js'
import { capMemory } from './memory-cap.js'
import { customSectionNames } from '../wasm/sections.js'

export { DEFAULT_START_FUEL, type InstrumentOptions } from './instrument-options.js'

export interface InstrumentedModule {
  bytes: Uint8Array<ArrayBuffer>
  fuel: boolean
  memoryPages: number | undefined
  /** The exports that start a new budget (sorted; empty without fuel). */
  budgetEntries: readonly string[]
}

/**
 * What the guest may use. All of it is in Node.js 20; anything else (exceptions, GC, threads,
 * memory64) is refused rather than metered wrongly.
 */
const FEATURES = (b: Binaryen): number =>
  b.Features.MutableGlobals | b.Features.NontrappingFPToInt | b.Features.SignExt | b.Features.BulkMemory |
  b.Features.BulkMemoryOpt | b.Features.SIMD128 | b.Features.Multivalue | b.Features.ReferenceTypes | b.Features.TailCall

let kinds: ExpressionKinds | undefined

/**
 * Rewrites a module for the sandbox: a memory cap and/or fuel metering. The result is a valid
 * module with the same imports and the same exports (names and signatures), plus, with fuel,
 * the globals `wafer_fuel` (i64) and `wafer_fuel_exhausted` (i32) and the function
 * `wafer_fuel_set(i64)`; with `budgetEntries` also the custom section that names them
 * (fuel-pass.ts). The same bytes and equal resolved options always give the same output bytes.
 *
 * Throws an Error with a readable message when the module cannot be sandboxed: not valid wasm,
 * memory imported, initial memory above the cap, an instruction the fuel pass does not know, or
 * (with fuel) a module that is instrumented already.
 */
export async function instrumentModule (bytes: Uint8Array, options: InstrumentOptions): Promise<InstrumentedModule> {
  const resolved = resolveInstrumentOptions(options)
  const copy = bytes.slice()
  if (!WebAssembly.validate(copy)) throw new Error('not a valid WebAssembly module')
  let out = copy
  if (resolved.memoryPages !== undefined) out = capMemory(out, resolved.memoryPages)
  if (resolved.fuel) out = await meter(out, resolved)
  return { bytes: out, fuel: resolved.fuel, memoryPages: resolved.memoryPages, budgetEntries: resolved.budgetEntries }
}

async function meter (bytes: Uint8Array, options: ResolvedInstrumentOptions): Promise<Uint8Array<ArrayBuffer>> {
  const sections = customSectionNames(bytes)
  // The host trusts this section to say which entries refill the counter: it must be ours.
  if (sections.includes(BUDGET_ENTRIES_SECTION)) throw new Error(`the module already has a custom section named ${BUDGET_ENTRIES_SECTION}: is it instrumented already?`)
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
    addFuelMetering(binaryen, kinds, mod, options.startFuel, options.budgetEntries)
    // Keep function names for stack traces when the input had them; binaryen's switch is global.
    const names = sections.includes('name')
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
