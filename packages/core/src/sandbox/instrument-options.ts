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
  /**
   * With fuel: the exports that start a new budget, each an entry the host calls at the start
   * of a unit its budget bounds (for the native ABI: `_start`, `_initialize`, `wafer_init`,
   * `wafer_on_request`, `wafer_on_response`). Entered through its export, each resets the
   * counter to the budget the host last gave `wafer_fuel_set` and clears the exhausted flag,
   * before it charges anything, so the host sets the budget once per instance instead of before
   * every call. Every other export runs on what is left (the native `wafer_on_resume`). Names
   * the module does not export as functions are ignored. Ignored without fuel.
   */
  budgetEntries?: readonly string[]
}

/**
 * The options in one canonical form, what the output depends on: every field present, the
 * entries sorted and without duplicates, none without fuel. Two option objects that instrument
 * alike resolve to equal values, so this is what the instrumentation cache keys on.
 */
export interface ResolvedInstrumentOptions {
  readonly fuel: boolean
  readonly memoryPages: number | undefined
  readonly startFuel: number
  readonly budgetEntries: readonly string[]
}

/**
 * About 25 ms of the tightest possible loop (benchmarks machine); the start functions of the
 * AssemblyScript example filters are charged about 100,000.
 */
export const DEFAULT_START_FUEL = 100_000_000

/** Validates `options` (throws a TypeError or RangeError naming the option) and resolves them. */
export function resolveInstrumentOptions (options: InstrumentOptions): ResolvedInstrumentOptions {
  if (typeof options?.fuel !== 'boolean') throw new TypeError(`instrumentModule: options.fuel must be a boolean, got ${String(options?.fuel)}`)
  const { fuel, memoryPages, startFuel, budgetEntries } = options
  if (memoryPages !== undefined && !(Number.isInteger(memoryPages) && memoryPages >= 0 && memoryPages <= 65536)) {
    throw new RangeError(`instrumentModule: options.memoryPages must be an integer from 0 to 65536, got ${String(memoryPages)}`)
  }
  if (startFuel !== undefined && !(Number.isSafeInteger(startFuel) && startFuel >= 0)) {
    throw new RangeError(`instrumentModule: options.startFuel must be a non-negative safe integer, got ${String(startFuel)}`)
  }
  if (budgetEntries !== undefined && !(Array.isArray(budgetEntries) && budgetEntries.every((e) => typeof e === 'string'))) {
    throw new TypeError(`instrumentModule: options.budgetEntries must be an array of export names, got ${JSON.stringify(budgetEntries)}`)
  }
  return Object.freeze({
    fuel,
    memoryPages,
    startFuel: startFuel ?? DEFAULT_START_FUEL,
    budgetEntries: Object.freeze(fuel ? [...new Set(budgetEntries)].sort() : [])
  })
}
