import type { ExpressionKinds } from './expression-children.js'
import { countsAsInstruction, planFuel, type FuelPlan, type FunctionPlan } from './fuel-plan.js'
import type { Binaryen, BinaryenRaw } from './load-binaryen.js'

type Module = InstanceType<Binaryen['Module']>

/** The exports the pass adds; budget.ts uses them on the host side. */
export const FUEL_EXPORTS = {
  fuel: 'wafer_fuel',
  exhausted: 'wafer_fuel_exhausted',
  set: 'wafer_fuel_set'
} as const

/**
 * The custom section that names the budget entries a module was instrumented with: a JSON array
 * of export names, sorted. Present only when there are some; budget.ts reads it on the host side.
 */
export const BUDGET_ENTRIES_SECTION = 'wafer.fuel.entries'

// Internal names for what the pass adds. `$` does not occur in names binaryen reads from a
// binary without a name section, and a clash is checked for anyway.
const FUEL = 'wafer$fuel'
const EXHAUSTED = 'wafer$fuel_exhausted'
const SET = 'wafer$fuel_set'
const EXIT = 'wafer$exit'
const BUDGET = 'wafer$fuel_budget'
/** Prefix of a budget entry's wrapper, followed by the name of the function it calls. */
const ENTRY = 'wafer$entry$'

/**
 * Bytes of memory.copy / memory.fill / memory.init per unit of fuel. These are the only
 * instructions whose work is not constant, so they pay for their size as well as for themselves.
 */
export const BULK_BYTES_PER_FUEL = 16

/**
 * Adds fuel metering to `mod` in place. The cost model, per call into the guest:
 *
 * - Every instruction costs 1, except the structural `block`, `loop` and `nop`. Calls to host
 *   imports cost 1 (the host's own work is not the guest's fuel). Bulk memory instructions
 *   cost 1 more per BULK_BYTES_PER_FUEL bytes, charged just before they run.
 * - Charges are made up front per region: the instructions of a function body outside its
 *   loops, and at the top of every loop iteration, the instructions of the loop body outside
 *   nested loops. Both arms of an `if` and every `br_table` target are included, so a charge is
 *   an upper bound on what its region can execute before it reaches the next loop header or
 *   leaves, and a call never runs more instructions than the fuel it was given.
 * - A function body's region is charged on entry (exported functions, the start function,
 *   table entries, recursive functions) or, for every other function, by its callers, folded
 *   into the region that contains the call (fuel-plan.ts).
 *
 * Where a function keeps the counter (fuel-plan.ts, FunctionMode): nowhere if it has nothing
 * to charge; in the `wafer_fuel` global if it has charges but no loop; in a local if it has
 * loops, loaded on entry, stored on every exit and before each call to a function that touches
 * the counter, and reloaded after such a call. A charge that takes the counter below zero
 * stores it, sets `wafer_fuel_exhausted` to 1 and executes `unreachable`.
 *
 * `wafer_fuel_set(n)` sets the counter to n and clears the exhausted flag. With `budgetEntries`
 * it also keeps n as the instance's budget (initially 0), and each export named there starts a
 * new budget: see addBudgetEntries.
 */
export function addFuelMetering (binaryen: Binaryen, kinds: ExpressionKinds, mod: Module, startFuel: number, budgetEntries: readonly string[]): void {
  const entries = budgetEntries.length > 0
  for (const name of entries ? [FUEL, EXHAUSTED, BUDGET] : [FUEL, EXHAUSTED]) {
    if (mod.getGlobal(name) !== 0) throw new Error(`the module already defines a global named ${name}`)
  }
  if (mod.getFunction(SET) !== 0) throw new Error(`the module already defines a function named ${SET}`)
  for (const name of Object.values(FUEL_EXPORTS)) {
    if (mod.getExport(name) !== 0) throw new Error(`the module already exports "${name}": is it instrumented already?`)
  }

  const plan = planFuel(binaryen, kinds, mod)
  mod.addGlobal(FUEL, binaryen.i64, true, i64Const(mod, startFuel))
  mod.addGlobal(EXHAUSTED, binaryen.i32, true, mod.i32.const(0))
  for (const [name, f] of plan.functions) {
    if (f.mode !== 'none') new FunctionMeter(binaryen, kinds, mod, name, f, plan).run()
  }
  if (entries) mod.addGlobal(BUDGET, binaryen.i64, true, i64Const(mod, 0))
  mod.addFunction(SET, binaryen.createType([binaryen.i64]), binaryen.none, [], mod.block(null, [
    mod.global.set(FUEL, mod.local.get(0, binaryen.i64)),
    ...(entries ? [mod.global.set(BUDGET, mod.local.get(0, binaryen.i64))] : []),
    mod.global.set(EXHAUSTED, mod.i32.const(0))
  ], binaryen.none))
  if (entries) addBudgetEntries(binaryen, mod, budgetEntries)
  mod.addGlobalExport(FUEL, FUEL_EXPORTS.fuel)
  mod.addGlobalExport(EXHAUSTED, FUEL_EXPORTS.exhausted)
  mod.addFunctionExport(SET, FUEL_EXPORTS.set)
}

/**
 * Points each function export named in `entries` at a wrapper that starts a new budget and
 * then calls what the export named: `wafer_fuel = budget; wafer_fuel_exhausted = 0; call f`,
 * before f charges anything. Runs after the metering, so f is planned as the root it was and
 * the wrapper's own few instructions are not charged. Only the export reaches the wrapper:
 * internal calls, tables, ref.func and other exports still reach f itself, so the guest cannot
 * refill its own counter by calling one of its entries. Names that are not function exports
 * are skipped: the host cannot call them. The section BUDGET_ENTRIES_SECTION records `entries`
 * for the host (all of them: one the module does not export is never called).
 */
function addBudgetEntries (binaryen: Binaryen, mod: Module, entries: readonly string[]): void {
  const wrappers = new Map<string, string>()
  for (const name of entries) {
    const ref = mod.getExport(name)
    if (ref === 0) continue
    const target = binaryen.getExportInfo(ref)
    if (target.kind !== binaryen.ExternalFunction) continue
    let wrapper = wrappers.get(target.value)
    if (wrapper === undefined) {
      wrapper = `${ENTRY}${target.value}`
      if (mod.getFunction(wrapper) !== 0) throw new Error(`the module already defines a function named ${wrapper}`)
      const f = binaryen.getFunctionInfo(mod.getFunction(target.value))
      const args = binaryen.expandType(f.params).map((type, i) => mod.local.get(i, type))
      mod.addFunction(wrapper, f.params, f.results, [], mod.block(null, [
        mod.global.set(FUEL, mod.global.get(BUDGET, binaryen.i64)),
        mod.global.set(EXHAUSTED, mod.i32.const(0)),
        mod.call(target.value, args, f.results)
      ], f.results))
      wrappers.set(target.value, wrapper)
    }
    mod.removeExport(name)
    mod.addFunctionExport(wrapper, name)
  }
  mod.addCustomSection(BUDGET_ENTRIES_SECTION, new TextEncoder().encode(JSON.stringify(entries)))
}

function i64Const (mod: Module, n: number): number {
  // binaryen.js 132 takes one bigint here; its typings still show (low, high).
  return (mod.i64.const as unknown as (value: bigint) => number)(BigInt(n))
}

/** Instruments one function of mode `direct` or `local`: see addFuelMetering. */
class FunctionMeter {
  readonly #b: Binaryen
  readonly #raw: BinaryenRaw
  readonly #kinds: ExpressionKinds
  readonly #m: Module
  readonly #name: string
  readonly #f: FunctionPlan
  readonly #plan: FuelPlan
  /** The counter's local (mode `local`), or -1 to charge the global directly (mode `direct`). */
  readonly #fuel: number
  readonly #temps = new Map<number, number>()
  #sizeTemp = -1
  /** Instructions charged by the innermost enclosing region (function body or loop body). */
  #region = 0
  /** Loops seen so far: compared around a call's operands to see if they contain one. */
  #loops = 0
  #hasReturn = false

  constructor (binaryen: Binaryen, kinds: ExpressionKinds, mod: Module, name: string, f: FunctionPlan, plan: FuelPlan) {
    this.#b = binaryen
    this.#raw = binaryen as unknown as BinaryenRaw
    this.#kinds = kinds
    this.#m = mod
    this.#name = name
    this.#f = f
    this.#plan = plan
    this.#fuel = f.mode === 'local' ? this.#addVar(binaryen.i64) : -1
  }

  run (): void {
    const b = this.#b
    const m = this.#m
    const info = b.getFunctionInfo(this.#f.ref)
    let body = this.#visit(info.body)
    if (this.#region !== this.#f.entryCost) {
      throw new Error(`fuel pass: ${this.#name} costs ${this.#region} but was planned at ${this.#f.entryCost} (a bug in the sandbox)`)
    }
    const entryCharge = this.#f.entryCharge > 0 ? [this.#charge(i64Const(m, this.#f.entryCharge))] : []
    if (this.#fuel < 0) {
      if (entryCharge.length > 0) this.#setBody(m.block(null, [...entryCharge, body], info.results))
      else this.#setBody(body)
      return
    }
    const results = info.results
    const entry = [m.local.set(this.#fuel, m.global.get(FUEL, b.i64)), ...entryCharge]
    if (this.#hasReturn) body = m.block(EXIT, [body], results)
    const store = m.global.set(FUEL, this.#fuelValue())
    let statements: number[]
    if (results === b.none) statements = [...entry, body, store]
    else if (b.getExpressionType(body) === b.unreachable) statements = [...entry, body]
    else {
      const temp = this.#temp(results)
      statements = [...entry, m.local.set(temp, body), store, m.local.get(temp, results)]
    }
    this.#setBody(m.block(null, statements, results))
  }

  #visit = (expr: number): number => {
    const b = this.#b
    const id = b.getExpressionId(expr)
    if (id === b.LoopId) return this.#visitLoop(expr)
    if (countsAsInstruction(b, id)) this.#region++
    const loopsBefore = this.#loops
    this.#kinds.forEachChild(expr, this.#visit)
    const local = this.#fuel >= 0
    switch (id) {
      case b.CallId: {
        const call = b.getExpressionInfo(expr) as unknown as { target: string, isReturn: boolean }
        this.#region += this.#plan.foldedCost(call.target)
        // A return call leaves this function: the counter must be stored whatever the callee.
        if (!local || (!call.isReturn && !this.#plan.touches(call.target))) return expr
        return this.#aroundCall(expr, 'Call', call.isReturn, this.#loops !== loopsBefore)
      }
      case b.CallIndirectId:
      case b.CallRefId: {
        if (!local) return expr
        const kind = id === b.CallIndirectId ? 'CallIndirect' : 'CallRef'
        const isReturn = this.#api<(e: number) => number>(`_Binaryen${kind}IsReturn`)(expr) !== 0
        return this.#aroundCall(expr, kind, isReturn, this.#loops !== loopsBefore)
      }
      case b.ReturnId:
        if (!local) return expr
        this.#hasReturn = true
        return this.#m.br(EXIT, 0, this.#api<(e: number) => number>('_BinaryenReturnGetValue')(expr))
      case b.MemoryCopyId:
        return this.#chargeSize(expr, 'MemoryCopy')
      case b.MemoryFillId:
        return this.#chargeSize(expr, 'MemoryFill')
      case b.MemoryInitId:
        return this.#chargeSize(expr, 'MemoryInit')
      default:
        return expr
    }
  }

  #visitLoop (expr: number): number {
    const getBody = this.#api<(e: number) => number>('_BinaryenLoopGetBody')
    const setBody = this.#api<(e: number, c: number) => void>('_BinaryenLoopSetBody')
    this.#loops++
    const outer = this.#region
    this.#region = 0
    const original = getBody(expr)
    const body = this.#visit(original)
    const charge = this.#region > 0 ? this.#charge(i64Const(this.#m, this.#region)) : 0
    this.#region = outer
    if (charge !== 0) setBody(expr, this.#seq([charge, body], this.#b.getExpressionType(body)))
    else if (body !== original) setBody(expr, body)
    return expr
  }

  /**
   * Stores the counter before a call that may touch it and reloads it after. When an operand
   * contains a loop (whose charges happen while the operands are evaluated), the operands are
   * first saved to locals so that the store comes after them.
   */
  #aroundCall (expr: number, kind: 'Call' | 'CallIndirect' | 'CallRef', isReturn: boolean, operandsLoop: boolean): number {
    const b = this.#b
    const m = this.#m
    const numOperands = this.#api<(e: number) => number>(`_Binaryen${kind}GetNumOperands`)
    const getOperand = this.#api<(e: number, i: number) => number>(`_Binaryen${kind}GetOperandAt`)
    const setOperand = this.#api<(e: number, i: number, c: number) => void>(`_Binaryen${kind}SetOperandAt`)
    const operands: Array<[get: () => number, set: (c: number) => void]> = []
    for (let i = 0; i < numOperands(expr); i++) operands.push([() => getOperand(expr, i), (c) => { setOperand(expr, i, c) }])
    if (kind !== 'Call') {
      const get = this.#api<(e: number) => number>(`_Binaryen${kind}GetTarget`)
      const set = this.#api<(e: number, c: number) => void>(`_Binaryen${kind}SetTarget`)
      operands.push([() => get(expr), (c) => { set(expr, c) }])
    }
    // Never executed: nothing to keep in step.
    if (operands.some(([get]) => b.getExpressionType(get()) === b.unreachable)) return expr

    const before: number[] = []
    if (operandsLoop) {
      for (const [get, set] of operands) {
        const value = get()
        const type = b.getExpressionType(value)
        const local = this.#addVar(type)
        before.push(m.local.set(local, value))
        set(m.local.get(local, type))
      }
    }
    before.push(m.global.set(FUEL, this.#fuelValue()))
    if (isReturn) return m.block(null, [...before, expr], b.unreachable)
    const reload = m.local.set(this.#fuel, m.global.get(FUEL, b.i64))
    const type = b.getExpressionType(expr)
    if (type === b.none) return m.block(null, [...before, expr, reload], b.none)
    const temp = this.#temp(type)
    return m.block(null, [...before, m.local.set(temp, expr), reload, m.local.get(temp, type)], type)
  }

  /** Charges a bulk memory instruction for its size, just before it runs. */
  #chargeSize (expr: number, kind: 'MemoryCopy' | 'MemoryFill' | 'MemoryInit'): number {
    const b = this.#b
    const m = this.#m
    const getSize = this.#api<(e: number) => number>(`_Binaryen${kind}GetSize`)
    const setSize = this.#api<(e: number, c: number) => void>(`_Binaryen${kind}SetSize`)
    const size = getSize(expr)
    if (b.getExpressionType(size) !== b.i32) return expr // unreachable; memory64 is refused on read
    if (this.#sizeTemp < 0) this.#sizeTemp = this.#addVar(b.i32)
    const local = this.#sizeTemp
    const units = m.i64.extend_u(m.i32.shr_u(m.local.get(local, b.i32), m.i32.const(Math.log2(BULK_BYTES_PER_FUEL))))
    setSize(expr, m.block(null, [m.local.set(local, size), this.#charge(units), m.local.get(local, b.i32)], b.i32))
    return expr
  }

  /** `fuel -= cost; if (fuel < 0) { store it; exhausted = 1; unreachable }`, on the local or the global. */
  #charge (cost: number): number {
    const b = this.#b
    const m = this.#m
    const trap = [m.global.set(EXHAUSTED, m.i32.const(1)), m.unreachable()]
    if (this.#fuel < 0) {
      return m.block(null, [
        m.global.set(FUEL, m.i64.sub(m.global.get(FUEL, b.i64), cost)),
        m.if(m.i64.lt_s(m.global.get(FUEL, b.i64), i64Const(m, 0)), m.block(null, trap, b.none))
      ], b.none)
    }
    const remaining = m.local.tee(this.#fuel, m.i64.sub(this.#fuelValue(), cost), b.i64)
    return m.if(m.i64.lt_s(remaining, i64Const(m, 0)), m.block(null, [m.global.set(FUEL, this.#fuelValue()), ...trap], b.none))
  }

  #fuelValue (): number {
    return this.#m.local.get(this.#fuel, this.#b.i64)
  }

  #seq (children: number[], type: number): number {
    return this.#m.block(null, children, type === this.#b.unreachable ? undefined : type)
  }

  #setBody (body: number): void {
    this.#api<(f: number, e: number) => void>('_BinaryenFunctionSetBody')(this.#f.ref, body)
  }

  /** One scratch local per type, for call and function results: each is read right after it is set. */
  #temp (type: number): number {
    let local = this.#temps.get(type)
    if (local === undefined) {
      local = this.#addVar(type)
      this.#temps.set(type, local)
    }
    return local
  }

  #addVar (type: number): number {
    return this.#api<(f: number, t: number) => number>('_BinaryenFunctionAddVar')(this.#f.ref, type)
  }

  #api<T> (name: string): T {
    const fn = this.#raw[name]
    if (typeof fn !== 'function') throw new Error(`binaryen.js lacks ${name}; the sandbox needs binaryen 132 or newer`)
    return fn as T
  }
}
