// The on-disk instrumentation cache is keyed by the instrumenter's sources: every file the
// worker's entry point imports, transitively. It once hashed sandbox/ only, so a fix in the
// binary reader (now wasm/reader.ts) kept serving stale instrumented modules.
import assert from 'node:assert/strict'
import { appendFile, cp, mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { entryKey, sourceDigest } from '../src/sandbox/instrument-cache.ts'
import { resolveInstrumentOptions, type InstrumentOptions } from '../src/sandbox/instrument-options.ts'

const src = join(import.meta.dirname, '../src')

test('the instrumenter key changes with every source that shapes the output, and only with those', async (t) => {
  const copy = await mkdtemp(join(tmpdir(), 'wafer-key-'))
  t.after(() => rm(copy, { recursive: true, force: true }))
  await cp(src, copy, { recursive: true })
  const entry = join(copy, 'sandbox/instrument-worker.ts')
  let key = sourceDigest(entry)
  assert.equal(key, sourceDigest(join(src, 'sandbox/instrument-worker.ts')), 'the same sources, the same key')

  for (const file of ['wasm/reader.ts', 'wasm/binary.ts', 'wasm/sections.ts', 'sandbox/fuel-pass.ts', 'sandbox/fuel-plan.ts', 'sandbox/memory-cap.ts', 'sandbox/instrument.ts', 'sandbox/instrument-options.ts', 'sandbox/load-binaryen.ts']) {
    await appendFile(join(copy, file), '\n// changed\n')
    const next = sourceDigest(entry)
    assert.notEqual(next, key, `a change to ${file} changes the key`)
    key = next
  }
  for (const file of ['runtime/pool.ts', 'sandbox/budget.ts', 'sandbox/instrument-cache.ts', 'http/exchange.ts']) {
    await appendFile(join(copy, file), '\n// changed\n')
    assert.equal(sourceDigest(entry), key, `${file} does not shape the instrumented bytes`)
  }
})

test('the entry key covers every option that shapes the output, budget entries included, and equal options share it', () => {
  const bytes = new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0])
  const key = (options: InstrumentOptions): string => entryKey(bytes, resolveInstrumentOptions(options))
  const base = key({ fuel: true, budgetEntries: ['wafer_on_request', 'wafer_init'] })
  assert.equal(key({ fuel: true, budgetEntries: ['wafer_init', 'wafer_on_request', 'wafer_init'] }), base, 'order and duplicates do not matter')
  assert.equal(key({ budgetEntries: ['wafer_init', 'wafer_on_request'], fuel: true, startFuel: 100_000_000 }), base, 'nor property order or a default spelled out')
  for (const other of [
    { fuel: true },
    { fuel: true, budgetEntries: ['wafer_on_request'] },
    { fuel: true, budgetEntries: ['wafer_on_request', 'wafer_init', 'wafer_on_resume'] },
    { fuel: true, budgetEntries: ['wafer_on_request', 'wafer_init'], memoryPages: 4 },
    { fuel: true, budgetEntries: ['wafer_on_request', 'wafer_init'], startFuel: 5 }
  ]) assert.notEqual(key(other), base, JSON.stringify(other))
  assert.equal(key({ fuel: false, budgetEntries: ['wafer_init'] }), key({ fuel: false }), 'entries mean nothing without fuel')
})
