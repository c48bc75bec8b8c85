// The hostile fixtures do what their comments say, instrumented or not. The runtime's own tests
// check how the host answers them; these pin the fixtures and the sandbox's part.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { fuelBudget, fuelExhausted, instrumentModule } from '../src/sandbox/index.ts'
import { fixture } from '../../../test/support/index.ts'
import { enter, Guest, read, requestInput } from './sandbox-guest.ts'
import { IMPORTS } from '../src/abi/native/spec.ts'
import { inside, POINTERS, RECORD_BYTES } from './support/guest-host-v2.ts'

const BIG = fuelBudget(10_000_000_000)

const variants = async (name: string): Promise<Array<[string, Uint8Array<ArrayBuffer>, bigint | undefined]>> => [
  ['plain', read(fixture(name)), undefined],
  ['instrumented', (await instrumentModule(read(fixture(name)), { fuel: true, memoryPages: 256 })).bytes, BIG]
]

/** The imports each hostile-bad-pointers-<family> fixture calls, and how often. */
const families: Record<string, Record<string, number>> = {
  config: { config_read: 4, init_reject: 4 },
  fields: { get: 4, set: 4 },
  headers: { header_get: 8, header_values: 8, header_names: 4, header_set: 8, header_add: 8, header_remove: 4 },
  respond: { respond: 4 },
  log: { log: 4 },
  'random-fill': { random_fill: 4 },
  'kv-get': { kv_get: 12 },
  'kv-set': { kv_set: 12 },
  'kv-incr': { kv_incr: 8 },
  'kv-del': { kv_del: 8 }
}

test('the hostile-bad-pointers fixtures cover every v2 import that takes a pointer', () => {
  assert.deepEqual(Object.keys(POINTERS).sort(), Object.keys(IMPORTS).sort(), 'the test host knows every import of the real one')
  const covered = new Set(Object.values(families).flatMap((f) => Object.keys(f)))
  const withPointers = Object.entries(POINTERS).filter(([, p]) => p.pairs.length > 0 || p.record !== undefined).map(([name]) => name)
  assert.deepEqual([...covered].sort(), withPointers.sort())
})

for (const [family, expected] of Object.entries(families)) {
  const entry = family === 'config' ? 'wafer_init' : 'wafer_on_request'
  test(`hostile-bad-pointers-${family} calls ${Object.keys(expected).join(', ')} with an out-of-range pointer each time, and continues`, async () => {
    for (const [variant, bytes, fuel] of await variants(`hostile-bad-pointers-${family}`)) {
      const guest = new Guest(bytes)
      const { action } = enter(guest, entry, entry === 'wafer_init' ? '{}' : requestInput(), fuel === undefined ? {} : { fuel })
      assert.equal(action, 0, variant)
      const counts: Record<string, number> = {}
      for (const c of guest.calls) counts[c.name] = (counts[c.name] ?? 0) + 1
      assert.deepEqual(counts, expected, variant)
      const size = guest.memory.buffer.byteLength
      for (const call of guest.calls) {
        // As unsigned 32-bit values, the way a guest means them; at least one pointer is outside memory.
        const where = POINTERS[call.name] ?? assert.fail(call.name)
        const outside = where.pairs.some(([p, l]) => !inside(size, call.args[p] as number, call.args[l] as number)) ||
          (where.record !== undefined && !inside(size, call.args[where.record] as number, RECORD_BYTES))
        assert.ok(outside, `${variant}: ${call.name}(${call.args.join(', ')}) should be out of range`)
      }
      const results = new Int32Array(guest.memory.buffer, 256, guest.calls.length)
      assert.deepEqual([...results], guest.calls.map(() => -1), `${variant}: the guest kept every result`)
    }
  })
}

test('hostile-huge-output responds with an 8 MiB body of valid UTF-8', async () => {
  for (const [variant, bytes, fuel] of await variants('hostile-huge-output')) {
    const guest = new Guest(bytes)
    const { action } = enter(guest, 'wafer_on_request', requestInput(), fuel === undefined ? {} : { fuel })
    assert.equal(action, 1, variant)
    const [call] = guest.calls
    assert.deepEqual([guest.calls.length, call?.name, call?.args[0], call?.args[2]], [1, 'respond', 200, 8_323_072], variant)
    const body = Buffer.from(guest.memory.buffer, call?.args[1], call?.args[2])
    assert.ok(body.every((b) => b === 0x61), `${variant}: the body is all "a"`)
    assert.equal(new DataView(guest.memory.buffer).getInt32(4, true), 0, `${variant}: respond accepted it here (this host has no size cap)`)
  }
})

test('bulk memory instructions pay for their size: filling 8 MiB needs more than 100,000 fuel', async () => {
  const guest = new Guest((await instrumentModule(read(fixture('hostile-huge-output')), { fuel: true })).bytes)
  assert.throws(() => enter(guest, 'wafer_on_request', requestInput(), { fuel: 100_000n }), WebAssembly.RuntimeError)
  assert.equal(fuelExhausted(guest.exports), true)
  assert.equal(guest.calls.length, 0, 'stopped before respond was called')
  // The fill had not started: the new pages are still zero.
  assert.equal(new Uint8Array(guest.memory.buffer)[65536 + 100], 0)
})

test('hostile-memory-bomb declares no maximum: without the sandbox its memory grows freely', () => {
  // Not run uncapped: it would take gigabytes. sandbox.test.ts runs it under a cap.
  const memory = new Guest(read(fixture('hostile-memory-bomb'))).memory
  memory.grow(100)
  assert.equal(memory.buffer.byteLength, 101 * 65536)
})
