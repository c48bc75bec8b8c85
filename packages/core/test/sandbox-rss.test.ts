// Trapping requests must not leak: every trap discards an instance and the pool makes another.
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { test } from 'node:test'

const script = fileURLToPath(new URL('./support/trap-loop.ts', import.meta.url))

test('10,000 trapping requests in a row leave RSS within 64 MiB of where it started', () => {
  // Each request traps, so each discards an instance with its own 64 KiB linear memory, compiled
  // code references and host objects. A leak of even one instance per request would grow RSS by
  // at least 10,000 x 64 KiB = 625 MiB; 64 MiB allows for V8 heap growth and GC timing while
  // catching any per-request leak of more than about 6.5 KiB.
  const r = spawnSync(process.execPath, ['--expose-gc', '--import', 'tsx', script, '10000'], { encoding: 'utf8', timeout: 120_000 })
  assert.equal(r.status, 0, r.stderr)
  const { before, after, traps, created } = JSON.parse(r.stdout.trim().split('\n').at(-1) as string) as { before: number, after: number, traps: number, created: number }
  assert.equal(traps, 10_000, 'every request trapped and was answered')
  assert.ok(created >= 10_000, `a fresh instance per trap: ${created}`)
  const growthMiB = (after - before) / 1024 / 1024
  assert.ok(growthMiB < 64, `RSS grew ${growthMiB.toFixed(1)} MiB (from ${(before / 1048576).toFixed(0)} to ${(after / 1048576).toFixed(0)} MiB)`)
})
