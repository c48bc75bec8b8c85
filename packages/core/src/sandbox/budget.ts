import { FUEL_EXPORTS } from './fuel-pass.js'

/**
 * The host side of fuel metering, for an instance of a module from `instrumentModule(bytes,
 * { fuel: true })`. The protocol:
 *
 * 1. Turn the configured budget into a bigint once, with `fuelBudget(n)` (the counter is an
 *    i64; converting on every call would allocate).
 * 2. Instantiate. A wasm start function runs inside `new WebAssembly.Instance` with the
 *    `startFuel` given to `instrumentModule`: the host cannot set a budget before it.
 * 3. `setFuel(exports, budget)` replaces whatever was left and clears the exhausted flag.
 *    The host calls it before `_start`/`_initialize`, before `wafer_init`, and once when a phase
 *    of a request starts (`wafer_on_request`, `wafer_on_response`): every `wafer_on_resume` of
 *    that phase runs on what is left, so the budget bounds the whole phase (docs/abi.md).
 * 4. If the call throws, `fuelExhausted(exports)` tells "ran out of fuel" (true) from any other
 *    trap (false): stack overflow, out-of-bounds access, `unreachable` in guest code. Either
 *    way the instance is unusable and must be discarded, as after any trap.
 * 5. After a call that returned, `fuelUsed(exports, budget)` is the fuel it consumed, for
 *    metrics; it reads a global (some tens of ns), so call it only if you keep the number.
 *
 * Host imports must not call back into the guest: the counter is not stored around import
 * calls, so a re-entrant call would run on the budget the host last set.
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
 * Gives the next call `budget` fuel and clears the exhausted flag. Implemented as a call to the
 * module's `wafer_fuel_set` export, which is several times cheaper than assigning
 * `WebAssembly.Global.value` from JavaScript.
 */
export function setFuel (exports: Exports, budget: bigint): void {
  (exports[FUEL_EXPORTS.set] as (budget: bigint) => void)(budget)
}

/** `setFuel` bound to one instance: look the export up once, call it before every guest call. */
export function fuelSetter (exports: Exports): (budget: bigint) => void {
  return exports[FUEL_EXPORTS.set] as (budget: bigint) => void
}

/** After a trap: true if the guest ran out of fuel, false for any other trap. */
export function fuelExhausted (exports: Exports): boolean {
  return (exports[FUEL_EXPORTS.exhausted] as WebAssembly.Global).value === 1
}

/** Fuel left after the last call; negative once exhausted. */
export function fuelRemaining (exports: Exports): bigint {
  return (exports[FUEL_EXPORTS.fuel] as WebAssembly.Global).value as bigint
}

/** Fuel the last call consumed, given the budget it was started with. */
export function fuelUsed (exports: Exports, budget: bigint): bigint {
  return budget - fuelRemaining(exports)
}
