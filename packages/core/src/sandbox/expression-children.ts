import type { Binaryen, BinaryenRaw } from './load-binaryen.js'

/**
 * Child access for binaryen expressions, generic over their kind: the fuel pass visits every
 * child and may replace it. Each kind lists its children in evaluation order, by the field
 * names of binaryen's C API (`_Binaryen<Kind>Get<Field>` / `Set<Field>`); a `*` field is a list
 * (`Get<Field>At`, `GetNum<Field>s`).
 *
 * Kinds that are neither listed here nor leaves (exception handling, GC, atomics, strings) are
 * refused: a module using them cannot be metered until the pass knows their control flow.
 */
const KINDS: Record<string, readonly string[]> = {
  Block: ['*Child:Children'],
  If: ['Condition', 'IfTrue', 'IfFalse'],
  Loop: ['Body'],
  Break: ['Value', 'Condition'],
  Switch: ['Value', 'Condition'],
  Call: ['*Operand:Operands'],
  CallIndirect: ['*Operand:Operands', 'Target'],
  CallRef: ['*Operand:Operands', 'Target'],
  LocalSet: ['Value'],
  GlobalSet: ['Value'],
  Load: ['Ptr'],
  Store: ['Ptr', 'Value'],
  Unary: ['Value'],
  Binary: ['Left', 'Right'],
  Select: ['IfTrue', 'IfFalse', 'Condition'],
  Drop: ['Value'],
  Return: ['Value'],
  MemoryGrow: ['Delta'],
  MemoryInit: ['Dest', 'Offset', 'Size'],
  MemoryCopy: ['Dest', 'Source', 'Size'],
  MemoryFill: ['Dest', 'Value', 'Size'],
  SIMDExtract: ['Vec'],
  SIMDReplace: ['Vec', 'Value'],
  SIMDShuffle: ['Left', 'Right'],
  SIMDTernary: ['A', 'B', 'C'],
  SIMDShift: ['Vec', 'Shift'],
  SIMDLoad: ['Ptr'],
  SIMDLoadStoreLane: ['Ptr', 'Vec'],
  RefIsNull: ['Value'],
  RefAs: ['Value'],
  RefEq: ['Left', 'Right'],
  TableGet: ['Index'],
  TableSet: ['Index', 'Value'],
  TableGrow: ['Value', 'Delta'],
  TupleMake: ['*Operand:Operands'],
  TupleExtract: ['Tuple']
}

const LEAVES = ['Nop', 'Unreachable', 'LocalGet', 'GlobalGet', 'Const', 'MemorySize', 'DataDrop', 'RefNull', 'RefFunc', 'TableSize']

type Getter = (expr: number) => number
type Setter = (expr: number, child: number) => void
interface Slot { get: Getter, set: Setter }
interface ListSlot { count: Getter, get: (expr: number, i: number) => number, set: (expr: number, i: number, child: number) => void }

/** Replaces a child when the visitor returns a different expression. */
export type ChildVisitor = (child: number) => number

export interface ExpressionKinds {
  /** Expression id -> kind name, for error messages. */
  name: (id: number) => string
  /** Visits the non-null children of `expr` in evaluation order, replacing those the visitor changes. */
  forEachChild: (expr: number, visit: ChildVisitor) => void
}

export function expressionKinds (binaryen: Binaryen): ExpressionKinds {
  const raw = binaryen as unknown as BinaryenRaw
  const api = <T>(name: string): T => {
    const fn = raw[name]
    if (typeof fn !== 'function') throw new Error(`binaryen.js lacks ${name}; the sandbox needs binaryen 132 or newer`)
    return fn as T
  }
  const ids = binaryen as unknown as Record<string, number>
  const names = new Map<number, string>()
  const visitors = new Map<number, ((expr: number, visit: ChildVisitor) => void) | null>()
  for (const [key, value] of Object.entries(ids)) {
    if (key.endsWith('Id') && typeof value === 'number' && key !== 'InvalidId') names.set(value, key.slice(0, -2))
  }

  for (const leaf of LEAVES) visitors.set(ids[`${leaf}Id`] as number, null)
  for (const [kind, fields] of Object.entries(KINDS)) {
    const id = ids[`${kind}Id`]
    if (typeof id !== 'number') throw new Error(`binaryen.js lacks ${kind}Id; the sandbox needs binaryen 132 or newer`)
    const slots: Array<Slot | ListSlot> = fields.map((field) => {
      if (!field.startsWith('*')) return { get: api<Getter>(`_Binaryen${kind}Get${field}`), set: api<Setter>(`_Binaryen${kind}Set${field}`) }
      const [item, items] = field.slice(1).split(':') as [string, string]
      return {
        count: api<Getter>(`_Binaryen${kind}GetNum${items}`),
        get: api<(e: number, i: number) => number>(`_Binaryen${kind}Get${item}At`),
        set: api<(e: number, i: number, c: number) => void>(`_Binaryen${kind}Set${item}At`)
      }
    })
    visitors.set(id, (expr, visit) => {
      for (const slot of slots) {
        if ('count' in slot) {
          const n = slot.count(expr)
          for (let i = 0; i < n; i++) {
            const child = slot.get(expr, i)
            const next = visit(child)
            if (next !== child) slot.set(expr, i, next)
          }
        } else {
          const child = slot.get(expr)
          if (child === 0) continue
          const next = visit(child)
          if (next !== child) slot.set(expr, next)
        }
      }
    })
  }

  const kindName = (id: number): string => names.get(id) ?? `expression kind ${id}`
  return {
    name: kindName,
    forEachChild (expr, visit) {
      const id = binaryen.getExpressionId(expr)
      const visitor = visitors.get(id)
      if (visitor === undefined) throw new Error(`the module uses ${kindName(id)}, which the fuel instrumentation does not support`)
      if (visitor !== null) visitor(expr, visit)
    }
  }
}
