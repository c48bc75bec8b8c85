import assert from 'node:assert/strict'
import { test } from 'node:test'
import { readdirSync } from 'node:fs'
import { join } from 'node:path'
import {
  fuelBudget, fuelExhausted, fuelRemaining, fuelUsed, instrumentModule, isMetered, setFuel, FUEL_EXPORTS
} from '../src/sandbox/index.ts'
import { exampleFilter, fixture, root } from '../../../test/support/index.ts'
import { NATIVE_BUDGET_ENTRIES } from '../src/abi/native/spec.ts'
import { browserHeaders, callIsolated, enter, Guest, PAGE, read, requestInput, resume, wat } from './sandbox-guest.ts'

const metered = async (path: string, options: { startFuel?: number, memoryPages?: number, budgetEntries?: readonly string[] } = {}): Promise<Uint8Array<ArrayBuffer>> =>
  (await instrumentModule(read(path), { fuel: true, ...options })).bytes

const BIG = fuelBudget(10_000_000_000)

/** Runs `fn`, which must trap, and returns what it threw. */
function trap (fn: () => unknown): unknown {
  try {
    fn()
  } catch (err) {
    return err
  }
  assert.fail('expected the call to trap')
}

test('an infinite loop in wafer_on_request runs out of fuel within its budget and traps', async () => {
  const budget = 10_000n
  const r = await callIsolated(await metered(fixture('hostile-loop')), 'wafer_on_request', budget)
  assert.match(r.outcome, /^RuntimeError: unreachable/, 'a wasm trap')
  assert.equal(r.exhausted, true)
  assert.ok(r.remaining < 0n, 'the counter went below zero')
  assert.ok(r.counter > 0, 'the loop ran')
  assert.ok(BigInt(r.counter) <= budget, `each iteration costs at least 1: ${r.counter} iterations on ${budget} fuel`)
  // Twice the budget, about twice the iterations: the budget is what stops it.
  const twice = await callIsolated(await metered(fixture('hostile-loop')), 'wafer_on_request', 2n * budget)
  assert.ok(Math.abs(twice.counter - 2 * r.counter) <= 1, `${twice.counter} vs 2 x ${r.counter}`)
})

test('an infinite loop in wafer_init is stopped the same way', async () => {
  const r = await callIsolated(await metered(fixture('hostile-loop-in-init')), 'wafer_init', 5_000n)
  assert.match(r.outcome, /^RuntimeError/)
  assert.equal(r.exhausted, true)
  assert.ok(r.counter > 0 && r.counter <= 5_000)
})

test('a start function that never returns is stopped by startFuel during instantiation', async () => {
  const bytes = await wat(`(module
    (memory (export "memory") 1)
    (func $forever (loop $l (br $l)))
    (start $forever))`)
  const r = await callIsolated((await instrumentModule(bytes, { fuel: true, startFuel: 1000 })).bytes, '', 0n)
  assert.match(r.outcome, /^RuntimeError: unreachable/)
})

test('unbounded recursion traps: out of fuel on a small budget, stack overflow on a huge one', async () => {
  const bytes = await metered(fixture('hostile-recursion'))
  const small = new Guest(bytes)
  assert.ok(trap(() => enter(small, 'wafer_on_request', requestInput(), { fuel: 1000n })) instanceof WebAssembly.RuntimeError)
  assert.equal(fuelExhausted(small.exports), true)

  const huge = new Guest(bytes)
  const err = trap(() => enter(huge, 'wafer_on_request', requestInput(), { fuel: BIG }))
  assert.ok(err instanceof RangeError, `a stack overflow, got ${String(err)}`)
  assert.equal(fuelExhausted(huge.exports), false, 'a stack overflow is not reported as running out of fuel')
  assert.ok(new DataView(huge.memory.buffer).getInt32(0, true) > 1000, 'it recursed deeply before the stack ran out')
})

test('recursion through two functions or through the table runs out of fuel', async () => {
  const mutual = await wat(`(module
    (memory (export "memory") 1)
    (func $a (param $n i32) (result i32) (call $b (i32.add (local.get $n) (i32.const 1))))
    (func $b (param $n i32) (result i32) (i32.store (i32.const 0) (local.get $n)) (call $a (local.get $n)))
    (func (export "run") (result i32) (call $a (i32.const 0))))`)
  const table = await wat(`(module
    (memory (export "memory") 1)
    (type $t (func (param i32) (result i32)))
    (table 1 funcref)
    (elem (i32.const 0) $self)
    (func $self (param $n i32) (result i32)
      (i32.store (i32.const 0) (local.get $n))
      (call_indirect (type $t) (i32.add (local.get $n) (i32.const 1)) (i32.const 0)))
    (func (export "run") (result i32) (call_indirect (type $t) (i32.const 0) (i32.const 0))))`)
  for (const bytes of [mutual, table]) {
    const r = await callIsolated((await instrumentModule(bytes, { fuel: true })).bytes, 'run', 1000n)
    assert.match(r.outcome, /^RuntimeError: unreachable/)
    assert.equal(r.exhausted, true)
    assert.ok(r.counter > 10 && r.counter < 1000, `stopped after ${r.counter} calls`)
  }
})

test('an ordinary trap is not reported as running out of fuel', async () => {
  const guest = new Guest(await metered(fixture('trap')))
  assert.ok(trap(() => enter(guest, 'wafer_on_request', requestInput(), { fuel: BIG })) instanceof WebAssembly.RuntimeError)
  assert.equal(fuelExhausted(guest.exports), false)
})

interface Step { entry: 'wafer_init' | 'wafer_on_request' | 'wafer_on_response' | 'resume', input: string, token?: number }
interface Outcome { action: number, output: string | undefined, imports: string }

/** Runs the same steps through a guest, returning what the host would see at each. */
function play (guest: Guest, steps: Step[], fuel?: bigint): Outcome[] {
  return steps.map((step) => {
    const before = guest.calls.length
    const options = fuel === undefined ? {} : { fuel }
    const r = step.entry === 'resume'
      ? resume(guest, step.token as number, 0, step.input, options)
      : enter(guest, step.entry, step.input, options)
    return { ...r, imports: JSON.stringify(guest.calls.slice(before)) }
  })
}

const response = (headers: Record<string, string>): string =>
  JSON.stringify({ status: 200, headers: { 'content-type': 'application/json', ...headers }, request: JSON.parse(requestInput()) })

/** The example filters with the configs of examples/fastify-basic, and inputs that take each path. */
const scenarios: Array<{ name: string, steps: Step[] }> = [
  {
    name: 'request-id',
    steps: [
      { entry: 'wafer_init', input: '{}' },
      { entry: 'wafer_on_request', input: requestInput({ headers: browserHeaders() }) },
      { entry: 'wafer_on_request', input: requestInput({ headers: { ...browserHeaders(), 'x-request-id': 'client-supplied-id' } }) },
      { entry: 'wafer_on_request', input: requestInput() },
      { entry: 'wafer_on_response', input: response({}) },
      { entry: 'wafer_on_response', input: response({ 'x-request-id': 'route-set' }) }
    ]
  },
  {
    name: 'auth',
    steps: [
      { entry: 'wafer_init', input: JSON.stringify({ mode: 'api-key', header: 'x-api-key', keys: ['demo-key', 'k1-test-key'], subjects: ['demo', 'bench'] }) },
      { entry: 'wafer_on_request', input: requestInput({ headers: browserHeaders() }) },
      { entry: 'wafer_on_request', input: requestInput({ headers: { ...browserHeaders(), 'x-api-key': 'wrong' } }) },
      { entry: 'wafer_on_request', input: requestInput({ headers: { host: 'a' } }) },
      { entry: 'wafer_on_request', input: requestInput({ headers: { 'x-api-key': 'demo-key' } }) }
    ]
  },
  {
    name: 'rewrite',
    steps: [
      { entry: 'wafer_init', input: JSON.stringify({ prefix: { from: '/api/', to: '/internal/' }, setHeaders: { 'x-gateway': 'wafer' } }) },
      { entry: 'wafer_on_request', input: requestInput({ headers: browserHeaders() }) },
      { entry: 'wafer_on_request', input: requestInput({ path: '/other/thing', headers: browserHeaders() }) },
      { entry: 'wafer_on_request', input: requestInput({ path: '/api/', query: '' }) }
    ]
  },
  {
    name: 'rate-limit',
    steps: [
      { entry: 'wafer_init', input: JSON.stringify({ algorithm: 'fixed-window', limit: 5, windowMs: 60_000, key: 'header:x-auth-subject' }) },
      { entry: 'wafer_on_request', input: requestInput({ headers: { 'x-auth-subject': 'demo' } }) },
      { entry: 'resume', token: 1, input: '{"value":1,"ttlMs":59000}' },
      { entry: 'wafer_on_request', input: requestInput({ headers: { 'x-auth-subject': 'demo' } }) },
      { entry: 'resume', token: 2, input: '{"value":6,"ttlMs":12000}' }
    ]
  }
]

for (const { name, steps } of scenarios) {
  test(`the ${name} example filter behaves identically instrumented and not`, async () => {
    const plain = play(new Guest(read(exampleFilter(name))), steps)
    const guest = new Guest(await metered(exampleFilter(name)))
    assert.equal(isMetered(guest.exports), true)
    const instrumented = play(guest, steps, BIG)
    assert.deepEqual(instrumented, plain)
    // With budget entries the budget is set once, and each entry starts it again.
    const entries = new Guest(await metered(exampleFilter(name), { budgetEntries: NATIVE_BUDGET_ENTRIES }))
    setFuel(entries.exports, BIG)
    assert.deepEqual(play(entries, steps), plain)
    // Each scenario reaches more than the trivial path: some call produces output.
    assert.ok(plain.some((o) => o.output !== undefined), 'the scenario exercises a change or a response')
  })
}

test('the budget is per call: each call gets the budget afresh, and one unit less than a call needs traps it', async () => {
  const bytes = await metered(exampleFilter('request-id'))
  const init: Step = { entry: 'wafer_init', input: '{}' }
  const call: Step = { entry: 'wafer_on_request', input: requestInput({ headers: { ...browserHeaders(), 'x-request-id': 'abc' } }) }

  // What each of 30 calls uses, measured with an ample budget.
  const probe = new Guest(bytes)
  play(probe, [init], BIG)
  const used: bigint[] = []
  for (let i = 0; i < 30; i++) {
    play(probe, [call], BIG)
    used.push(fuelUsed(probe.exports, BIG))
  }
  const most = used.reduce((a, b) => (a > b ? a : b))
  const total = used.reduce((a, b) => a + b)
  assert.ok(used.every((u) => u > 0n))
  assert.ok(total > most * 2n, 'the calls together use far more than one budget')

  // The same calls on a fresh instance, each with just the largest single need: all succeed.
  const exact = new Guest(bytes)
  play(exact, [init], BIG)
  for (let i = 0; i < 30; i++) {
    assert.doesNotThrow(() => play(exact, [call], most), `call ${i}`)
    assert.equal(fuelUsed(exact.exports, most), used[i], 'fuel use is deterministic')
  }

  // One unit less than the first call needs: it runs out.
  const short = new Guest(bytes)
  play(short, [init], BIG)
  const first = used[0] as bigint
  assert.throws(() => play(short, [call], first - 1n), WebAssembly.RuntimeError)
  assert.equal(fuelExhausted(short.exports), true)
})

test('fuel accounting follows the cost model exactly across calls, loops and early returns', async () => {
  const bytes = await wat(`(module
    (memory (export "memory") 1)
    (func $count (param $n i32)
      (loop $l
        (local.set $n (i32.sub (local.get $n) (i32.const 1)))
        (br_if $l (local.get $n))))
    (func $find (param $n i32) (result i32)
      (loop $l
        (if (i32.eq (local.get $n) (i32.const 3)) (then (return (local.get $n))))
        (local.set $n (i32.sub (local.get $n) (i32.const 1)))
        (br $l))
      (i32.const -1))
    (func $leaf (param $x i32) (result i32) (i32.add (local.get $x) (i32.const 1)))
    (func (export "run") (result i32)
      (call $count (i32.const 10))
      (call $count (i32.const 5))
      (drop (call $find (i32.const 10)))
      (call $leaf (i32.const 7))))`)
  const { exports } = new WebAssembly.Instance(new WebAssembly.Module((await instrumentModule(bytes, { fuel: true })).bytes))
  setFuel(exports, 1000n)
  assert.equal((exports.run as () => number)(), 8)
  // run: 2 + 2 + 3 + 2 instructions, plus $leaf's 3 charged at its call site (it has no loop) = 12
  // $count: 6 per iteration (local.set, i32.sub, local.get, i32.const, br_if, local.get): 60 + 30
  // $find: 11 per iteration (if, i32.eq, local.get, i32.const, return, local.get, local.set,
  //   i32.sub, local.get, i32.const, br) x 8 iterations (10 down to 3) + 1 (i32.const -1) = 89
  assert.equal(fuelUsed(exports, 1000n), 12n + 60n + 30n + 89n)
})

test('a loop inside a call\'s operands is charged before the callee runs', async () => {
  const bytes = await wat(`(module
    (memory (export "memory") 1)
    (func $sum (param $a i32) (param $b i32) (result i32)
      (local $i i32)
      (loop $l (local.set $i (i32.add (local.get $i) (i32.const 1))) (br_if $l (i32.lt_u (local.get $i) (local.get $b))))
      (i32.add (local.get $a) (local.get $i)))
    (func (export "run") (result i32)
      (local $k i32)
      (call $sum
        (i32.const 100)
        (block (result i32)
          (loop $l (local.set $k (i32.add (local.get $k) (i32.const 1))) (br_if $l (i32.lt_u (local.get $k) (i32.const 4))))
          (local.get $k)))))`)
  const { exports } = new WebAssembly.Instance(new WebAssembly.Module((await instrumentModule(bytes, { fuel: true })).bytes))
  setFuel(exports, 1000n)
  assert.equal((exports.run as () => number)(), 104)
  // run: call, i32.const, local.get (3), plus $sum's i32.add, local.get, local.get folded in (3).
  // Each loop, 4 iterations of 8: local.set, i32.add, local.get, i32.const, br_if, i32.lt_u and
  // its two operands. Without the operands spilled first, run's loop would be lost (38).
  assert.equal(fuelUsed(exports, 1000n), 6n + 32n + 32n)
})

test('a tail call out of a metered function keeps what the function used', async () => {
  const bytes = await wat(`(module
    (memory (export "memory") 1)
    (func $leaf (param i32) (result i32) (i32.add (local.get 0) (i32.const 1)))
    (func (export "run") (result i32)
      (local $i i32)
      (loop $l (local.set $i (i32.add (local.get $i) (i32.const 1))) (br_if $l (i32.lt_u (local.get $i) (i32.const 10))))
      (return_call $leaf (local.get $i))))`)
  const { exports } = new WebAssembly.Instance(new WebAssembly.Module((await instrumentModule(bytes, { fuel: true })).bytes))
  setFuel(exports, 1000n)
  assert.equal((exports.run as () => number)(), 11)
  // return_call, local.get and $leaf's 3 folded in; the loop 8 x 10.
  assert.equal(fuelUsed(exports, 1000n), 5n + 80n)
})

test('setFuel clears the exhausted flag and fuelUsed reports what a call consumed', async () => {
  const guest = new Guest(await metered(fixture('noop')))
  setFuel(guest.exports, 0n)
  assert.throws(() => (guest.exports.wafer_on_request as () => number)(), WebAssembly.RuntimeError)
  assert.equal(fuelExhausted(guest.exports), true)
  setFuel(guest.exports, 100n)
  assert.equal(fuelExhausted(guest.exports), false)
  assert.equal((guest.exports.wafer_on_request as () => number)(), 0)
  assert.equal(fuelUsed(guest.exports, 100n), 1n, 'noop.wat runs one instruction: i32.const 0')
})

test('fuelBudget accepts positive integers only', () => {
  assert.equal(fuelBudget(5), 5n)
  assert.equal(fuelBudget(2n ** 40n), 2n ** 40n)
  for (const bad of [0, -1, 1.5, Number.NaN, 2 ** 60, 2n ** 63n]) assert.throws(() => fuelBudget(bad), RangeError, String(bad))
})

test('memory growth within the cap succeeds inside the guest and beyond it returns -1', async () => {
  for (const fuel of [true, false]) {
    const { bytes } = await instrumentModule(read(fixture('hostile-memory-bomb')), { fuel, memoryPages: 4 })
    const guest = new Guest(bytes)
    const err = trap(() => enter(guest, 'wafer_on_request', requestInput(), fuel ? { fuel: BIG } : {}))
    assert.ok(err instanceof WebAssembly.RuntimeError, 'the write past the end traps')
    if (fuel) assert.equal(fuelExhausted(guest.exports), false)
    const view = new DataView(guest.memory.buffer)
    assert.equal(guest.memory.buffer.byteLength, 4 * PAGE, 'memory stopped at the cap')
    assert.equal(view.getInt32(0, true), 3, 'three one-page grows succeeded (1 -> 4 pages)')
    assert.equal(view.getInt32(4, true), -1, 'the next memory.grow returned -1')
  }
})

test('the cap is min(declared maximum, cap), and a maximum is added when none was declared', async () => {
  const declared = await wat('(module (memory (export "memory") 1 2))')
  const low = new Guest((await instrumentModule(declared, { fuel: false, memoryPages: 8 })).bytes).memory
  low.grow(1)
  assert.throws(() => low.grow(1), RangeError, 'the declared maximum of 2 still holds')

  const none = new Guest((await instrumentModule(read(fixture('noop')), { fuel: true, memoryPages: 3 })).bytes).memory
  none.grow(2)
  assert.throws(() => none.grow(1), RangeError, 'no more than 3 pages')
})

test('a module whose initial memory exceeds the cap is refused, naming both sizes', async () => {
  const big = await wat('(module (memory (export "memory") 10))')
  await assert.rejects(instrumentModule(big, { fuel: true, memoryPages: 4 }), /starts at 10 pages .* cap of 4 pages/)
  await assert.rejects(instrumentModule(big, { fuel: false, memoryPages: 4 }), /starts at 10 pages .* cap of 4 pages/)
  await assert.doesNotReject(instrumentModule(big, { fuel: false, memoryPages: 10 }))
})

test('a module that imports its memory is refused when a cap is asked for', async () => {
  const bytes = await wat('(module (import "env" "memory" (memory 1)))')
  await assert.rejects(instrumentModule(bytes, { fuel: false, memoryPages: 4 }), /imports it \("env"\."memory"\)/)
})

test('bad input and options are refused with a clear error', async () => {
  await assert.rejects(instrumentModule(new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0, 99]), { fuel: true }), /not a valid WebAssembly module/)
  await assert.rejects(instrumentModule(read(fixture('noop')), { fuel: true, memoryPages: 70000 }), RangeError)
  await assert.rejects(instrumentModule(read(fixture('noop')), { fuel: 'yes' } as never), TypeError)
  const instrumented = await metered(fixture('noop'))
  await assert.rejects(instrumentModule(instrumented, { fuel: true }), /already/)
})

test('instrumentation is deterministic: the same bytes give the same output', async () => {
  for (const path of [exampleFilter('auth'), fixture('hostile-loop')]) {
    const a = await instrumentModule(read(path), { fuel: true, memoryPages: 16 })
    const b = await instrumentModule(read(path), { fuel: true, memoryPages: 16 })
    assert.deepEqual(Buffer.from(a.bytes), Buffer.from(b.bytes))
    assert.deepEqual({ fuel: a.fuel, memoryPages: a.memoryPages }, { fuel: true, memoryPages: 16 })
  }
})

/** Export and import names, kinds and function signatures, read with binaryen. */
async function surface (bytes: Uint8Array<ArrayBuffer>): Promise<{ exports: string[], imports: string[] }> {
  const binaryen = (await import('binaryen')).default
  const mod = (binaryen.readBinary as (d: Uint8Array, f: number) => ReturnType<typeof binaryen.readBinary>)(bytes, binaryen.Features.All)
  try {
    const sig = (name: string): string => {
      const f = binaryen.getFunctionInfo(mod.getFunction(name))
      return `${binaryen.expandType(f.params).join(',')}->${binaryen.expandType(f.results).join(',')}`
    }
    const exports = []
    for (let i = 0; i < mod.getNumExports(); i++) {
      const e = binaryen.getExportInfo(mod.getExportByIndex(i))
      exports.push(`${e.name}:${e.kind}${e.kind === binaryen.ExternalFunction ? ':' + sig(e.value) : ''}`)
    }
    const imports = WebAssembly.Module.imports(new WebAssembly.Module(bytes)).map((i) => `${i.module}.${i.name}:${i.kind}`)
    return { exports: exports.sort(), imports }
  } finally {
    mod.dispose()
  }
}

test('every fixture and example instruments to a valid module with the same imports and exports, plus the fuel ones, with and without budget entries', async () => {
  const paths = readdirSync(join(root, 'test/fixtures/build')).filter((f) => f.endsWith('.wasm')).map((f) => join(root, 'test/fixtures/build', f))
  paths.push(...['request-id', 'auth', 'rewrite', 'rate-limit'].map(exampleFilter))
  assert.ok(paths.length > 30)
  for (const [path, budgetEntries] of paths.flatMap((p) => [[p, []], [p, NATIVE_BUDGET_ENTRIES]] as const)) {
    const before = await surface(read(path))
    const bytes = await metered(path, { budgetEntries })
    assert.ok(WebAssembly.validate(bytes), path)
    const after = await surface(bytes)
    assert.deepEqual(after.imports, before.imports, path)
    const added = after.exports.filter((e) => !before.exports.includes(e))
    assert.deepEqual(after.exports.filter((e) => before.exports.includes(e)), before.exports, `${path}: every export kept with its signature`)
    assert.deepEqual(added.map((e) => e.split(':')[0]).sort(), Object.values(FUEL_EXPORTS).sort(), path)
  }
})
