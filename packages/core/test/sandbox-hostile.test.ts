// The hostile fixtures do what their comments say, instrumented or not. The runtime's own tests
// check how the host answers them; these pin the fixtures and the sandbox's part.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { fuelBudget, fuelExhausted, instrumentModule } from '../src/sandbox/index.ts'
import { fixture } from '../../../test/support/index.ts'
import { enter, Guest, read, requestInput } from './sandbox-guest.ts'

const BIG = fuelBudget(10_000_000_000)

const variants = async (name: string): Promise<Array<[string, Uint8Array<ArrayBuffer>, bigint | undefined]>> => [
  ['plain', read(fixture(name)), undefined],
  ['instrumented', (await instrumentModule(read(fixture(name)), { fuel: true, memoryPages: 256 })).bytes, BIG]
]

/** Where each import takes its (pointer, length) pairs. */
const pointerArgs: Record<string, number[][]> = {
  output: [[0, 1]],
  log: [[1, 2]],
  random_fill: [[0, 1]],
  kv_get: [[0, 1]],
  kv_incr: [[0, 1]],
  kv_del: [[0, 1]],
  kv_set: [[0, 1], [2, 3]]
}

for (const name of Object.keys(pointerArgs)) {
  test(`hostile-bad-pointers-${name.replace('_', '-')} calls ${name} with out-of-range pointers only, and continues`, async () => {
    for (const [variant, bytes, fuel] of await variants(`hostile-bad-pointers-${name.replace('_', '-')}`)) {
      const guest = new Guest(bytes)
      const { action } = enter(guest, 'wafer_on_request', requestInput(), fuel === undefined ? {} : { fuel })
      assert.equal(action, 0, variant)
      const calls = guest.calls.filter((c) => c.name === name)
      assert.equal(calls.length, name === 'kv_set' ? 8 : 4, variant)
      const size = guest.memory.buffer.byteLength
      for (const call of calls) {
        // As unsigned 32-bit values, the way a guest means them; at least one pair is outside memory.
        const outside = (pointerArgs[name] as number[][]).some(([p, l]) => (call.args[p as number] as number >>> 0) + (call.args[l as number] as number >>> 0) > size)
        assert.ok(outside, `${variant}: ${JSON.stringify(call.args)} should be out of range`)
      }
      const results = new Int32Array(guest.memory.buffer, 256, calls.length)
      assert.deepEqual([...results], calls.map(() => -1), `${variant}: the guest kept every result`)
    }
  })
}

test('hostile-huge-output responds with about 8 MiB of valid JSON', async () => {
  for (const [variant, bytes, fuel] of await variants('hostile-huge-output')) {
    const guest = new Guest(bytes)
    const { action, output } = enter(guest, 'wafer_on_request', requestInput(), fuel === undefined ? {} : { fuel })
    assert.equal(action, 1, variant)
    assert.equal(output?.length, 8_323_072, variant)
    const parsed = JSON.parse(output as string) as { status: number, body: string }
    assert.equal(parsed.status, 200)
    assert.match(parsed.body, /^a+$/)
  }
})

test('bulk memory instructions pay for their size: filling 8 MiB needs more than 100,000 fuel', async () => {
  const guest = new Guest((await instrumentModule(read(fixture('hostile-huge-output')), { fuel: true })).bytes)
  assert.throws(() => enter(guest, 'wafer_on_request', requestInput(), { fuel: 100_000n }), WebAssembly.RuntimeError)
  assert.equal(fuelExhausted(guest.exports), true)
  assert.equal(guest.calls.length, 0, 'stopped before output was called')
  // The fill had not started: the page after the response prefix is still zero.
  assert.equal(new Uint8Array(guest.memory.buffer)[65536 + 100], 0)
})

test('hostile-memory-bomb declares no maximum: without the sandbox its memory grows freely', () => {
  // Not run uncapped: it would take gigabytes. sandbox.test.ts runs it under a cap.
  const memory = new Guest(read(fixture('hostile-memory-bomb'))).memory
  memory.grow(100)
  assert.equal(memory.buffer.byteLength, 101 * 65536)
})
