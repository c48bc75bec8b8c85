import { BUDGET_ENTRIES_SECTION, FUEL_EXPORTS } from './fuel-pass.js'

/**
 * The host side of fuel metering, for an instance of a module from `instrumentModule(bytes,
 * { fuel: true, budgetEntries })`. The protocol:
 *
 * 1. Turn the configured budget into a bigint once, with `fuelBudget(n)` (the counter is an
 *    i64; converting on every call would allocate).
 * 2. Instantiate. A wasm start function runs inside `new WebAssembly.Instance` with the
 *    `startFuel` given to `instrumentModule`: the host cannot set a budget before it.
 * 3. Give the instance its budget with `prepareFuel(module, exports, entries, budget)`, where
 *    `entries` are the exports the host calls at the start of what one budget bounds (for the
 *    native ABI `_start`/`_initialize`, `wafer_init`, and each phase of a request,
 *    `wafer_on_request` and `wafer_on_response`; not `wafer_on_resume`, which runs on what is
 *    left of its phase's budget, so the budget bounds the whole phase: docs/abi.md section 6).
 *    - If the module was instrumented with all of `entries` as `budgetEntries`, it sets the
 *      budget once and returns undefined: each of those exports resets the counter to the
 *      budget and clears the exhausted flag on entry, inside the guest. Nothing more to do per
 *      call, and no second host-to-guest call per entry.
 *    - Otherwise it returns a setter to call with the budget before each of `entries`
 *      (`setFuel`: replaces whatever was left and clears the exhausted flag).
 * 4. If the call throws, `fuelExhausted(exports)` tells "ran out of fuel" (true) from any other
 *    trap (false): stack overflow, out-of-bounds access, `unreachable` in guest code. Either
 *    way the instance is unusable and must be discarded, as after any trap: a budget entry
 *    would start a new budget on it, and nothing a trap interrupted can be trusted.
 * 5. After a call that returned, `fuelUsed(exports, budget)` is the fuel used since the budget
 *    was last started (by a budget entry or the setter), for metrics; it reads a global (some
 *    tens of ns), so call it only if you keep the number.
 *
 * Host imports must not call back into the guest: the counter is not stored around import
 * calls, so a re-entrant call would run on the budget the host last set, or start a new one.
 */

type Exports = WebAssembly.Exports

/** The largest budget: the counter is a signed 64-bit integer. */
export const MAX_FUEL = 2n ** 63n - 1n

/** Validates a configured budget (a positive integer) and converts it for `setFuel`. */
export function fuelBudget (n: number | bigint): bigint {
  if (typeof n === 'number' && !Number.isSafeInteger(n)) throw new RangeError(`a fuel budget must be a positive integer, got ${n}`)
  const b = BigInt(n)
  if (b <= 0n || b > MAX_FUEL) throw new RangeError(`a fuel budget must be from 1 to ${MAX_FUEL}, got ${b}`)
  return b
}

/** Whether the instance was instrumented with fuel. Check once per instance, not per call. */
export function isMetered (exports: Exports): boolean {
  return typeof exports[FUEL_EXPORTS.set] === 'function' &&
    exports[FUEL_EXPORTS.fuel] instanceof WebAssembly.Global &&
    exports[FUEL_EXPORTS.exhausted] instanceof WebAssembly.Global
}

/**
 * Gives the next call `budget` fuel and clears the exhausted flag; for a module with budget
 * entries, `budget` is also what each of them starts with from now on. Implemented as a call to
 * the module's `wafer_fuel_set` export, which is several times cheaper than assigning
 * `WebAssembly.Global.value` from JavaScript.
 */
export function setFuel (exports: Exports, budget: bigint): void {
  (exports[FUEL_EXPORTS.set] as (budget: bigint) => void)(budget)
}

/** `setFuel` bound to one instance: look the export up once, call it before every guest call. */
export function fuelSetter (exports: Exports): (budget: bigint) => void {
  return exports[FUEL_EXPORTS.set] as (budget: bigint) => void
}

/**
 * Step 3 of the protocol above, once per instance of a metered module: undefined when every one
 * of `entries` starts its budget itself (the budget is then set here, once), else the setter to
 * call with the budget before each of them.
 */
export function prepareFuel (module: WebAssembly.Module, exports: Exports, entries: readonly string[], budget: bigint): ((budget: bigint) => void) | undefined {
  if (!resetsOnEntry(module, entries)) return fuelSetter(exports)
  setFuel(exports, budget)
  return undefined
}

/**
 * Whether `module` was instrumented with every one of `entries` as a budget entry. Read from
 * the custom section the instrumentation writes (and refuses to find in its input): a few
 * microseconds, so once per instance, not per call.
 */
export function resetsOnEntry (module: WebAssembly.Module, entries: readonly string[]): boolean {
  const own = budgetEntries(module)
  return entries.every((e) => own.has(e))
}

/** The budget entries `module` was instrumented with; empty for a module without them. */
export function budgetEntries (module: WebAssembly.Module): ReadonlySet<string> {
  const sections = WebAssembly.Module.customSections(module, BUDGET_ENTRIES_SECTION)
  if (sections.length !== 1) return new Set()
  let names: unknown
  try {
    names = JSON.parse(new TextDecoder().decode(sections[0]))
  } catch {
    return new Set()
  }
  return new Set(Array.isArray(names) ? names.filter((n): n is string => typeof n === 'string') : [])
}

/** After a trap: true if the guest ran out of fuel, false for any other trap. */
export function fuelExhausted (exports: Exports): boolean {
  return (exports[FUEL_EXPORTS.exhausted] as WebAssembly.Global).value === 1
}

/** Fuel left after the last call (of the budget last started); negative once exhausted. */
export function fuelRemaining (exports: Exports): bigint {
  return (exports[FUEL_EXPORTS.fuel] as WebAssembly.Global).value as bigint
}

/** Fuel used since the budget was last started (one call, or an entry and its resumes), given that budget. */
export function fuelUsed (exports: Exports, budget: bigint): bigint {
  return budget - fuelRemaining(exports)
}
