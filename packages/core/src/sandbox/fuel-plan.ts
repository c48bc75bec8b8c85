import type { ExpressionKinds } from './expression-children.js'
import type { Binaryen } from './load-binaryen.js'

type Module = InstanceType<Binaryen['Module']>

/**
 * How the fuel pass treats each function, decided from the whole module's call graph so that
 * ordinary calls cost as little as possible:
 *
 * - `none`: no charge point of its own (no loop, no bulk memory instruction, no entry charge).
 *   Not touched at all. Its instructions are charged by its callers (below).
 * - `direct`: charge points but no loop. It charges the `wafer_fuel` global directly; there is
 *   nothing hot enough to be worth a local.
 * - `local`: has loops. The counter is kept in a local: loaded on entry, stored on exit and
 *   around calls to functions that touch the counter, reloaded after them.
 *
 * A function's instructions outside its loops are charged either on its own entry or, folded,
 * at each call site by its caller (as part of the caller's up-front region charge). Folding
 * removes a check per call; it is used for every function except the "self-charging" ones:
 * roots (exported, start, in a table or taken by ref.func: the host or an indirect call can
 * enter them without a caller to charge for them), recursive functions (a cycle of calls needs
 * a check on the cycle) and functions whose folded cost would exceed MAX_FOLDED_COST.
 */
export type FunctionMode = 'none' | 'direct' | 'local'

export interface FunctionPlan {
  ref: number
  mode: FunctionMode
  /** Charged (and checked) on entry; 0 when the function's callers charge for it. */
  entryCharge: number
  /**
   * The function's instructions outside loops, plus the folded costs of the calls there. Its
   * transformation recomputes this and must agree, since callers have already charged it.
   */
  entryCost: number
}

export interface FuelPlan {
  functions: Map<string, FunctionPlan>
  /** What a direct call to `name` adds to the caller's region besides the call instruction. */
  foldedCost: (name: string) => number
  /** Whether calling `name` may read or write the counter (then a caller's local must be stored first). */
  touches: (name: string) => boolean
}

/**
 * Above this, a function charges itself on entry rather than at its call sites. Folding saves a
 * check per call but charges the callee's whole loop-free part wherever the call appears, even
 * in an `if` arm not taken; the limit keeps that over-estimate small (measured in
 * benchmarks/micro/instrument.mjs: 100,000 was no faster and charged up to 60% more).
 */
const MAX_FOLDED_COST = 1_000

interface Facts {
  ref: number
  /** Instructions outside loops (see countsAsInstruction). */
  own: number
  /** Direct callees at call sites outside loops, once per site. */
  callsOutside: string[]
  /** Every direct callee. */
  callees: Set<string>
  loops: boolean
  bulk: boolean
  indirect: boolean
}

/** Every instruction costs 1 except the structural ones, which compile to nothing. */
export function countsAsInstruction (binaryen: Binaryen, id: number): boolean {
  return id !== binaryen.BlockId && id !== binaryen.LoopId && id !== binaryen.NopId
}

export function planFuel (binaryen: Binaryen, kinds: ExpressionKinds, mod: Module): FuelPlan {
  const facts = analyse(binaryen, kinds, mod)
  const selfCharging = new Set([...roots(binaryen, kinds, mod)].filter((n) => facts.has(n)))
  for (const name of recursive(facts)) selfCharging.add(name)

  const entryCosts = new Map<string, number>()
  const foldedCost = (name: string): number => {
    if (!facts.has(name) || selfCharging.has(name)) return 0
    const cost = entryCost(name)
    if (cost <= MAX_FOLDED_COST) return cost
    selfCharging.add(name)
    return 0
  }
  // Recursion only reaches callees that are not self-charging, which the call graph has no
  // cycles among: this terminates.
  const entryCost = (name: string): number => {
    let cost = entryCosts.get(name)
    if (cost === undefined) {
      const f = facts.get(name) as Facts
      cost = f.own
      for (const callee of f.callsOutside) cost += foldedCost(callee)
      entryCosts.set(name, cost)
    }
    return cost
  }
  for (const name of facts.keys()) entryCost(name)
  for (const name of facts.keys()) for (const callee of (facts.get(name) as Facts).callees) foldedCost(callee)

  const functions = new Map<string, FunctionPlan>()
  for (const [name, f] of facts) {
    const entryCharge = selfCharging.has(name) ? entryCost(name) : 0
    const mode: FunctionMode = f.loops ? 'local' : f.bulk || entryCharge > 0 ? 'direct' : 'none'
    functions.set(name, { ref: f.ref, mode, entryCharge, entryCost: entryCost(name) })
  }

  // Touching spreads from functions with charge points (or unknown callees) to their callers.
  const touching = new Set<string>()
  const callers = new Map<string, string[]>()
  for (const [name, f] of facts) {
    for (const callee of f.callees) {
      if (!callers.has(callee)) callers.set(callee, [])
      ;(callers.get(callee) as string[]).push(name)
    }
    if ((functions.get(name) as FunctionPlan).mode !== 'none' || f.indirect) touching.add(name)
  }
  const queue = [...touching]
  while (queue.length > 0) {
    for (const caller of callers.get(queue.pop() as string) ?? []) {
      if (!touching.has(caller)) {
        touching.add(caller)
        queue.push(caller)
      }
    }
  }
  return { functions, foldedCost, touches: (name) => touching.has(name) }
}

function analyse (binaryen: Binaryen, kinds: ExpressionKinds, mod: Module): Map<string, Facts> {
  const facts = new Map<string, Facts>()
  const bulkIds = new Set([binaryen.MemoryCopyId, binaryen.MemoryFillId, binaryen.MemoryInitId])
  const indirectIds = new Set([binaryen.CallIndirectId, binaryen.CallRefId])
  for (let i = 0; i < mod.getNumFunctions(); i++) {
    const ref = mod.getFunctionByIndex(i)
    const info = binaryen.getFunctionInfo(ref)
    if (info.module !== null && info.module !== '') continue // an import
    const f: Facts = { ref, own: 0, callsOutside: [], callees: new Set(), loops: false, bulk: false, indirect: false }
    let depth = 0
    const walk = (expr: number): number => {
      const id = binaryen.getExpressionId(expr)
      if (depth === 0 && countsAsInstruction(binaryen, id)) f.own++
      if (id === binaryen.LoopId) f.loops = true
      else if (bulkIds.has(id)) f.bulk = true
      else if (indirectIds.has(id)) f.indirect = true
      else if (id === binaryen.CallId) {
        const target = (binaryen.getExpressionInfo(expr) as unknown as { target: string }).target
        f.callees.add(target)
        if (depth === 0) f.callsOutside.push(target)
      }
      if (id === binaryen.LoopId) depth++
      kinds.forEachChild(expr, walk)
      if (id === binaryen.LoopId) depth--
      return expr
    }
    if (info.body !== 0) walk(info.body)
    facts.set(info.name, f)
  }
  return facts
}

/** Functions the host or an indirect call can enter: exports, the start function, table entries, ref.func targets. */
function roots (binaryen: Binaryen, kinds: ExpressionKinds, mod: Module): Set<string> {
  const out = new Set<string>()
  for (let i = 0; i < mod.getNumExports(); i++) {
    const e = binaryen.getExportInfo(mod.getExportByIndex(i))
    if (e.kind === binaryen.ExternalFunction) out.add(e.value)
  }
  const start = mod.getStart()
  if (start !== 0) out.add(binaryen.getFunctionInfo(start).name)
  for (let i = 0; i < mod.getNumElementSegments(); i++) {
    for (const name of binaryen.getElementSegmentInfo(mod.getElementSegmentByIndex(i)).data) out.add(name)
  }
  const visit = (expr: number): number => {
    if (binaryen.getExpressionId(expr) === binaryen.RefFuncId) out.add((binaryen.getExpressionInfo(expr) as unknown as { func: string }).func)
    kinds.forEachChild(expr, visit)
    return expr
  }
  for (let i = 0; i < mod.getNumFunctions(); i++) {
    const body = binaryen.getFunctionInfo(mod.getFunctionByIndex(i)).body
    if (body !== 0) visit(body)
  }
  for (let i = 0; i < mod.getNumGlobals(); i++) {
    const init = binaryen.getGlobalInfo(mod.getGlobalByIndex(i)).init
    if (init !== 0) visit(init)
  }
  return out
}

/** Functions on a cycle of direct calls (Tarjan's strongly connected components, iteratively). */
function recursive (facts: Map<string, Facts>): Set<string> {
  const out = new Set<string>()
  const index = new Map<string, number>()
  const low = new Map<string, number>()
  const onStack = new Set<string>()
  const stack: string[] = []
  let next = 0
  for (const start of facts.keys()) {
    if (index.has(start)) continue
    const work: Array<[string, Iterator<string>]> = []
    const open = (name: string): void => {
      index.set(name, next)
      low.set(name, next++)
      stack.push(name)
      onStack.add(name)
      work.push([name, (facts.get(name) as Facts).callees.values()])
    }
    open(start)
    while (work.length > 0) {
      const [name, it] = work[work.length - 1] as [string, Iterator<string>]
      const step = it.next()
      if (!step.done) {
        const callee = step.value
        if (!facts.has(callee)) continue
        if (!index.has(callee)) open(callee)
        else if (onStack.has(callee)) low.set(name, Math.min(low.get(name) as number, index.get(callee) as number))
        continue
      }
      work.pop()
      const parent = work[work.length - 1]
      if (parent !== undefined) low.set(parent[0], Math.min(low.get(parent[0]) as number, low.get(name) as number))
      if (low.get(name) === index.get(name)) {
        const component: string[] = []
        let member: string
        do {
          member = stack.pop() as string
          onStack.delete(member)
          component.push(member)
        } while (member !== name)
        const self = (facts.get(name) as Facts).callees.has(name)
        if (component.length > 1 || self) for (const m of component) out.add(m)
      }
    }
  }
  return out
}
