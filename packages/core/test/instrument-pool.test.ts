// The worker pool that instruments modules off the main thread: the same bytes as instrumenting
// in-thread, several at once, and the instrumenter's errors carried back as they were.
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { test } from 'node:test'
import { instrumentModule } from '../src/sandbox/instrument.ts'
import { instrumentOffThread } from '../src/sandbox/instrument-pool.ts'
import { exampleFilter, fixture } from '../../../test/support/index.ts'

test('modules instrumented on workers, several at once, are the bytes instrumentModule gives', async () => {
  const modules = [exampleFilter('auth'), exampleFilter('rewrite'), fixture('noop'), fixture('hostile-loop')].map((f) => readFileSync(f))
  const options = { fuel: true, memoryPages: 64 }
  const offThread = await Promise.all(modules.map((bytes) => instrumentOffThread(bytes, options)))
  for (const [i, bytes] of modules.entries()) {
    assert.deepEqual(Buffer.from(offThread[i] as Uint8Array), Buffer.from((await instrumentModule(bytes, options)).bytes))
  }
})

test('the budget entries cross to the worker: the bytes instrumentModule gives with them', async () => {
  const bytes = readFileSync(exampleFilter('rate-limit'))
  const options = { fuel: true, budgetEntries: ['wafer_on_request', 'wafer_init', '_start'] }
  const offThread = await instrumentOffThread(bytes, options)
  assert.deepEqual(Buffer.from(offThread), Buffer.from((await instrumentModule(bytes, options)).bytes))
  assert.notDeepEqual(Buffer.from(offThread), Buffer.from(await instrumentOffThread(bytes, { fuel: true })))
})

test('a module the instrumenter refuses rejects with its message, and the pool keeps working', async () => {
  await assert.rejects(instrumentOffThread(Uint8Array.from([0, 97, 115, 109, 1, 0, 0, 0, 99]), { fuel: true }), { message: 'not a valid WebAssembly module' })
  await assert.rejects(instrumentOffThread(readFileSync(fixture('two-pages')), { fuel: false, memoryPages: 1 }), /starts at 2 pages .* cap of 1 pages/)
  assert.ok(WebAssembly.validate(await instrumentOffThread(readFileSync(fixture('noop')), { fuel: true }) as Uint8Array<ArrayBuffer>))
})
