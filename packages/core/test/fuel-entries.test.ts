// Budget entries (docs/abi.md section 6): exports instrumented to start a new fuel budget on
// entry, so the host sets the budget once per instance instead of calling `wafer_fuel_set`
// before every phase. The guarantees of the per-call protocol must hold as they were.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { Exchange, MemoryStore, type KvStore } from '../src/index.ts'
import { NATIVE_BUDGET_ENTRIES } from '../src/abi/native/spec.ts'
import { Filter } from '../src/runtime/filter.ts'
import { resolveFilterOptions, type FilterOptions } from '../src/runtime/filter-options.ts'
import { ModuleCache, type CompiledModule, type ModuleTransform } from '../src/runtime/module-cache.ts'
import {
  budgetEntries, fuelBudget, fuelExhausted, fuelRemaining, fuelUsed, instrumentModule, prepareFuel, resetsOnEntry, setFuel,
  BUDGET_ENTRIES_SECTION, FUEL_EXPORTS
} from '../src/sandbox/index.ts'
import { fixture, silent } from '../../../test/support/index.ts'
import { delayedStore } from '../../../test/support/stores.ts'
import { callIsolated, read, wat } from './sandbox-guest.ts'

const BIG = fuelBudget(10_000_000_000)

const withEntries = async (bytes: Uint8Array, entries: readonly string[] = NATIVE_BUDGET_ENTRIES, startFuel?: number): Promise<Uint8Array<ArrayBuffer>> =>
  (await instrumentModule(bytes, { fuel: true, budgetEntries: entries, ...(startFuel === undefined ? {} : { startFuel }) })).bytes

type Call = (...args: number[]) => number

/**
 * Every entry spins (the i32 at address 0) times. `wafer_on_request`'s function is also exported
 * as `request_again`, which is not an entry; `refill` calls that function forever, directly and
 * through the table.
 */
const SPIN = `(module
  (memory (export "memory") 1)
  (type $entry (func (result i32)))
  (table 1 funcref)
  (elem (i32.const 0) $request)
  (func $spin (local $n i32)
    (local.set $n (i32.load (i32.const 0)))
    (loop $l
      (local.set $n (i32.sub (local.get $n) (i32.const 1)))
      (br_if $l (i32.gt_s (local.get $n) (i32.const 0)))))
  (func $request (result i32) (call $spin) (i32.const 0))
  (export "wafer_on_request" (func $request))
  (export "request_again" (func $request))
  (func (export "wafer_on_response") (result i32) (call $spin) (i32.const 0))
  (func (export "wafer_on_resume") (param i32) (result i32) (call $spin) (i32.const 0))
  (func (export "refill") (result i32)
    (loop $l
      (drop (call $request))
      (drop (call_indirect (type $entry) (i32.const 0)))
      (br $l))
    (i32.const 0)))`

class SpinGuest {
  readonly exports: WebAssembly.Exports
  readonly module: WebAssembly.Module

  constructor (bytes: Uint8Array<ArrayBuffer>, spins = 10) {
    this.module = new WebAssembly.Module(bytes)
    this.exports = new WebAssembly.Instance(this.module).exports
    new DataView((this.exports.memory as WebAssembly.Memory).buffer).setInt32(0, spins, true)
  }

  call (name: string, ...args: number[]): number {
    return (this.exports[name] as Call)(...args)
  }
}

/** What one call of `name` on a fresh instance uses. */
function need (bytes: Uint8Array<ArrayBuffer>, name: string, ...args: number[]): bigint {
  const g = new SpinGuest(bytes)
  setFuel(g.exports, BIG)
  g.call(name, ...args)
  return fuelUsed(g.exports, BIG)
}

test('a budget entry starts the budget the host set once: every call gets all of it, and one unit less than a call needs traps it', async () => {
  const bytes = await withEntries(await wat(SPIN))
  for (const entry of ['wafer_on_request', 'wafer_on_response']) {
    const budget = need(bytes, entry)
    assert.ok(budget > 50n, `${entry} spins: ${budget}`)

    const exact = new SpinGuest(bytes)
    setFuel(exact.exports, budget)
    for (let i = 0; i < 5; i++) {
      assert.equal(exact.call(entry), 0, `call ${i} on the budget set once`)
      assert.equal(fuelRemaining(exact.exports), 0n, 'all of it, to the unit')
    }

    const short = new SpinGuest(bytes)
    setFuel(short.exports, budget - 1n)
    assert.throws(() => short.call(entry), WebAssembly.RuntimeError)
    assert.equal(fuelExhausted(short.exports), true)
    assert.throws(() => short.call(entry), WebAssembly.RuntimeError, 'the next entry starts the same short budget')
    // The per-call protocol still works on such a module: the setter sets a new budget.
    setFuel(short.exports, budget)
    assert.equal(fuelExhausted(short.exports), false)
    assert.equal(short.call(entry), 0)
  }
})

test('exports not in the list run on what is left, as before: wafer_on_resume shares its phase\'s budget', async () => {
  const bytes = await withEntries(await wat(SPIN))
  const request = need(bytes, 'wafer_on_request')
  const resume = need(bytes, 'wafer_on_resume', 1)
  const g = new SpinGuest(bytes)
  setFuel(g.exports, request + 2n * resume)
  for (let phase = 0; phase < 3; phase++) {
    g.call('wafer_on_request')
    g.call('wafer_on_resume', 1)
    g.call('wafer_on_resume', 1)
    assert.equal(fuelRemaining(g.exports), 0n, `phase ${phase}: the entry and two resumes use the budget exactly`)
  }
  assert.throws(() => g.call('wafer_on_resume', 1), WebAssembly.RuntimeError, 'a third resume is not refilled')
  assert.equal(fuelExhausted(g.exports), true)

  // The entry's own function under another export name is not an entry.
  const again = new SpinGuest(bytes)
  setFuel(again.exports, request)
  assert.equal(again.call('request_again'), 0)
  assert.throws(() => again.call('request_again'), WebAssembly.RuntimeError)
  assert.equal(fuelExhausted(again.exports), true)
})

test('the guest cannot refill its counter by calling its own entry, directly or through a table', async () => {
  const r = await callIsolated(await withEntries(await wat(SPIN), ['refill', 'wafer_on_request']), 'refill', 10_000n)
  assert.match(r.outcome, /^RuntimeError: unreachable/)
  assert.equal(r.exhausted, true)
})

test('start functions are metered: the wasm start function on startFuel, an exported _start or _initialize on the budget', async () => {
  const forever = '(local $i i32) (loop $l (local.set $i (i32.add (local.get $i) (i32.const 1))) (i32.store (i32.const 0) (local.get $i)) (br $l))'
  // The start function is also exported as _start, an entry: instantiation does not go through the export.
  const start = await wat(`(module (memory (export "memory") 1) (func $s ${forever}) (start $s) (export "_start" (func $s)))`)
  const instantiated = await callIsolated(await withEntries(start, NATIVE_BUDGET_ENTRIES, 1000), '', 0n)
  assert.match(instantiated.outcome, /^RuntimeError: unreachable/, 'new WebAssembly.Instance traps')

  const initialize = await withEntries(await wat(`(module (memory (export "memory") 1) (func (export "_initialize") ${forever}))`))
  const r = await callIsolated(initialize, '_initialize', 5000n)
  assert.match(r.outcome, /^RuntimeError: unreachable/)
  assert.equal(r.exhausted, true)
  assert.ok(r.counter > 10 && r.counter < 5000, `stopped by the budget after ${r.counter} iterations`)
})

test('the module says which entries start a budget, and prepareFuel sets the budget once only when all of the host\'s do', async () => {
  const plain = await wat(SPIN)
  const all = new SpinGuest(await withEntries(plain, ['wafer_on_response', 'wafer_on_request', 'wafer_on_request']))
  assert.deepEqual([...budgetEntries(all.module)], ['wafer_on_request', 'wafer_on_response'], 'sorted, without duplicates')
  assert.equal(resetsOnEntry(all.module, ['wafer_on_request', 'wafer_on_response']), true)
  assert.equal(resetsOnEntry(all.module, ['wafer_on_request', 'wafer_on_resume']), false)
  assert.equal(prepareFuel(all.module, all.exports, ['wafer_on_request', 'wafer_on_response'], 777n), undefined, 'nothing to do per call')
  assert.equal(fuelRemaining(all.exports), 777n, 'the budget was set, once')

  const some = new SpinGuest(await withEntries(plain, ['wafer_on_request']))
  const setter = prepareFuel(some.module, some.exports, ['wafer_on_request', 'wafer_on_response'], 777n)
  assert.equal(typeof setter, 'function', 'a module that does not reset on every entry of the host gets the per-call setter')

  const none = new SpinGuest((await instrumentModule(plain, { fuel: true })).bytes)
  assert.equal(budgetEntries(none.module).size, 0)
  assert.equal(typeof prepareFuel(none.module, none.exports, ['wafer_on_request'], 777n), 'function')
})

test('without entries the output is what it was; the same entries in any order give the same bytes; the exports stay the same', async () => {
  const plain = await wat(SPIN)
  const bare = (await instrumentModule(plain, { fuel: true })).bytes
  assert.deepEqual(Buffer.from((await instrumentModule(plain, { fuel: true, budgetEntries: [] })).bytes), Buffer.from(bare))
  assert.deepEqual(
    Buffer.from((await instrumentModule(plain, { fuel: false, memoryPages: 4, budgetEntries: ['wafer_on_request'] })).bytes),
    Buffer.from((await instrumentModule(plain, { fuel: false, memoryPages: 4 })).bytes),
    'ignored without fuel')
  const a = await withEntries(plain, ['wafer_on_response', '_start', 'wafer_on_request'])
  const b = await withEntries(plain, ['wafer_on_request', 'wafer_on_response', '_start', '_start'])
  assert.deepEqual(Buffer.from(a), Buffer.from(b))
  assert.notDeepEqual(Buffer.from(a), Buffer.from(bare))

  const kinds = (bytes: Uint8Array<ArrayBuffer>): string[] => WebAssembly.Module.exports(new WebAssembly.Module(bytes)).map((e) => `${e.name}:${e.kind}`).sort()
  assert.deepEqual(kinds(a), kinds(bare), 'the same exports as without entries')
  assert.deepEqual(kinds(a).filter((e) => !kinds(plain).includes(e)).map((e) => e.split(':')[0]), Object.values(FUEL_EXPORTS).sort())
  assert.deepEqual(WebAssembly.Module.imports(new WebAssembly.Module(a)), WebAssembly.Module.imports(new WebAssembly.Module(plain)))

  await assert.rejects(instrumentModule(plain, { fuel: true, budgetEntries: 'wafer_on_request' as never }), TypeError)
  await assert.rejects(instrumentModule(plain, { fuel: true, budgetEntries: [1] as never }), TypeError)
})

/** `bytes` with a custom section appended. */
function withSection (bytes: Uint8Array, name: string, payload: string): Uint8Array<ArrayBuffer> {
  const n = Buffer.from(name)
  const p = Buffer.from(payload)
  assert.ok(n.length + p.length + 1 < 128, 'one-byte LEB128 sizes')
  return new Uint8Array(Buffer.concat([bytes, Buffer.from([0, n.length + p.length + 1, n.length]), n, p]))
}

test('a module that brings its own budget-entries section, or is instrumented already, is refused', async () => {
  const forged = withSection(await wat(SPIN), BUDGET_ENTRIES_SECTION, '["wafer_on_request"]')
  assert.equal(resetsOnEntry(new WebAssembly.Module(forged), ['wafer_on_request']), true, 'the section alone would convince the host')
  await assert.rejects(instrumentModule(forged, { fuel: true }), /already has a custom section named wafer\.fuel\.entries/)
  await assert.rejects(instrumentModule(forged, { fuel: true, budgetEntries: ['wafer_on_request'] }), /already has a custom section/)
  await assert.rejects(instrumentModule(await withEntries(await wat(SPIN)), { fuel: true, budgetEntries: ['wafer_on_request'] }), /already/)
})

// Through the native host (abi/native/instance.ts) as the runtime loads a filter: runtime/filter.ts
// instruments with the ABI's budget entries (GuestAbi.budgetEntries). The cache records what it
// compiled, so the tests can check the module really resets on entry.

class RecordingCache extends ModuleCache {
  readonly compiled: CompiledModule[] = []
  override async compile (bytes: Uint8Array, source: string, transform?: ModuleTransform): Promise<CompiledModule> {
    const out = await super.compile(bytes, source, transform)
    if (transform !== undefined) this.compiled.push(out)
    return out
  }
}

async function load (module: string | Uint8Array, limits: FilterOptions['limits'], store: KvStore = new MemoryStore()): Promise<Filter> {
  const options = resolveFilterOptions('f', { module, limits, pool: { min: 1, max: 1 } })
  const cache = new RecordingCache()
  const filter = await Filter.load(options, { cache, store, logger: silent })
  // The module the runtime instruments carries the native ABI's budget entries.
  const [compiled] = cache.compiled
  assert.ok(compiled !== undefined, 'the filter was instrumented')
  const sections = WebAssembly.Module.customSections(compiled.module, BUDGET_ENTRIES_SECTION)
  assert.equal(sections.length, 1, 'the instrumented module has its budget-entries section')
  assert.deepEqual(JSON.parse(Buffer.from(sections[0] as ArrayBuffer).toString('utf8')), [...NATIVE_BUDGET_ENTRIES].sort())
  return filter
}

function exchange (path = '/'): Exchange {
  return new Exchange({ id: 'r', method: 'GET', url: path, headers: {}, remoteAddress: '127.0.0.1', log: silent })
}

/** Throws or rejects; returns the error's code. */
async function failure (fn: () => unknown): Promise<string | undefined> {
  try {
    await fn()
  } catch (err) {
    return (err as { code?: string }).code
  }
  assert.fail('expected the call to fail')
}

/**
 * A native-ABI filter whose phases each spin 100 times the length of the path; the request phase
 * starts a kv_incr first and, given a token, spins again in wafer_on_resume.
 */
const PHASES = `(module
  (import "wafer" "get" (func $get (param i32 i32 i32) (result i32)))
  (import "wafer" "kv_incr" (func $kv_incr (param i32 i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 16) "hits")
  (func (export "wafer_abi_version_2"))
  (func $spin (local $n i32)
    (local.set $n (i32.mul (call $get (i32.const 1) (i32.const 0) (i32.const 0)) (i32.const 100)))
    (loop $l
      (local.set $n (i32.sub (local.get $n) (i32.const 1)))
      (br_if $l (i32.gt_s (local.get $n) (i32.const 0)))))
  (func (export "wafer_on_request") (result i32)
    (call $spin)
    (if (result i32) (i32.gt_s (call $kv_incr (i32.const 16) (i32.const 4) (i32.const 1) (i32.const 60000) (i32.const 64)) (i32.const 0))
      (then (i32.const 2))
      (else (i32.const 0))))
  (func (export "wafer_on_resume") (param i32) (result i32) (call $spin) (i32.const 0))
  (func (export "wafer_on_response") (result i32) (call $spin) (i32.const 0)))`

/** What the PHASES filter's request phase (with a resume when `token`) and response phase use for a path of `pathLength`. */
function phaseNeeds (bytes: Uint8Array<ArrayBuffer>, pathLength: number, token: number): { request: bigint, response: bigint } {
  const wafer = { get: () => pathLength, kv_incr: () => token }
  const { exports } = new WebAssembly.Instance(new WebAssembly.Module(bytes), { wafer })
  setFuel(exports, BIG)
  const action = (exports.wafer_on_request as Call)()
  assert.equal(action, token > 0 ? 2 : 0)
  if (token > 0) (exports.wafer_on_resume as Call)(token)
  const request = fuelUsed(exports, BIG)
  setFuel(exports, BIG)
  ;(exports.wafer_on_response as Call)()
  return { request, response: fuelUsed(exports, BIG) }
}

test('through the native host: each phase gets exactly limits.fuel, set once per instance; one unit less fails with WAFER_ERR_FILTER_FUEL', async () => {
  const plain = await wat(PHASES)
  const path = '/spin-for-a-while'
  const { request, response } = phaseNeeds(await withEntries(plain), path.length, 0)
  assert.ok(request > 1000n && response > 1000n && response < request)

  const exact = await load(plain, { fuel: Number(request) })
  for (let i = 0; i < 20; i++) {
    const ex = exchange(path)
    assert.deepEqual(await exact.request(ex), { respond: false }, `request ${i}`)
    ex.response = { status: 200, headers: {}, body: undefined, changed: false, bodyChanged: false }
    await exact.response(ex)
  }
  assert.equal(exact.status().pool.discarded, 0, 'one instance served them all')

  const short = await load(plain, { fuel: Number(request) - 1 })
  assert.equal(await failure(() => short.request(exchange(path))), 'WAFER_ERR_FILTER_FUEL')
  assert.equal(short.status().pool.discarded, 1, 'an instance that ran out of fuel is discarded, not given a new budget')
  assert.deepEqual(await short.request(exchange('/')), { respond: false }, 'a shorter request runs on a new instance')
  exact.close()
  short.close()
})

test('through the native host: wafer_on_resume runs on what is left of its phase\'s budget', async () => {
  const plain = await wat(PHASES)
  const path = '/spin-for-a-while'
  const once = phaseNeeds(await withEntries(plain), path.length, 0).request
  const { request } = phaseNeeds(await withEntries(plain), path.length, 1)
  assert.ok(request > once + 1000n, 'the resume spins as well')

  const exact = await load(plain, { fuel: Number(request) }, delayedStore().store)
  for (let i = 0; i < 5; i++) assert.deepEqual(await exact.request(exchange(path)), { respond: false }, `request ${i}: entry and resume on one budget`)

  const short = await load(plain, { fuel: Number(request) - 1 }, delayedStore().store)
  const err = await Promise.resolve().then(() => short.request(exchange(path))).then(() => undefined, (e: unknown) => e as Error & { code?: string })
  assert.equal(err?.code, 'WAFER_ERR_FILTER_FUEL')
  assert.match(err?.message ?? '', /wafer_on_resume/, 'it ran out in the resume, which was not refilled')
  exact.close()
  short.close()
})

test('through the native host: a looping entry runs out of fuel, and so does a looping _initialize', async () => {
  const loop = await load(read(fixture('hostile-loop')), { fuel: 1_000_000 })
  assert.equal(await failure(() => loop.request(exchange())), 'WAFER_ERR_FILTER_FUEL')
  assert.equal(loop.status().pool.discarded, 1)
  loop.close()

  const start = await wat(`(module
    (memory (export "memory") 1)
    (func (export "wafer_abi_version_2"))
    (func (export "_initialize") (loop $l (br $l)))
    (func (export "wafer_on_request") (result i32) (i32.const 0)))`)
  assert.equal(await failure(() => load(start, { fuel: 1_000_000 })), 'WAFER_ERR_FILTER_INSTANTIATE')
})

test('through the native host: a module that brings its own wafer.fuel.entries section is refused at load: WAFER_ERR_MODULE_LIMITS', async () => {
  const forged = withSection(await wat(PHASES), BUDGET_ENTRIES_SECTION, JSON.stringify(NATIVE_BUDGET_ENTRIES))
  assert.equal(await failure(() => load(forged, { fuel: 1_000_000 })), 'WAFER_ERR_MODULE_LIMITS')
})
