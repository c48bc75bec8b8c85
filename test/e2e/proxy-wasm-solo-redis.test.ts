// The @solo-io/proxy-runtime shared-data counter (test/fixtures/guests/proxy-solo-counter.ts)
// across two processes on a real Redis (docs/proxy-wasm.md, "Shared data across processes"):
// each process has its own Wafer runtime and RedisStore; concurrent requests in both increment
// one counter with CAS retries, and it ends at exactly the total.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { fixture } from '../support/index.ts'
import { startRedis } from '../support/redis.ts'
import { startSharedDataChild } from '../support/shared-data-process.ts'

const OK = '0'

async function read (url: string): Promise<Response> {
  return await fetch(`${url}/op`, { headers: { 'x-op': 'read' }, signal: AbortSignal.timeout(5000) })
}

test('two processes on one Redis increment the solo SDK counter with CAS retries: it ends at exactly the total', async (t) => {
  const redis = await startRedis()
  t.after(() => redis.stop())
  const prefix = `solo-${process.pid}-${Date.now()}:`
  const perProcess = 20
  const [a, b] = await Promise.all([startSharedDataChild(t, redis.url, prefix, fixture('proxy-solo-counter'), perProcess, 'solo_counter'), startSharedDataChild(t, redis.url, prefix, fixture('proxy-solo-counter'), perProcess, 'solo_counter')]) as [string, string]
  // Each process's first root context created the counter if it was not there: both read it.
  for (const url of [a, b]) {
    const res = await read(url)
    assert.equal(await res.text(), '0', `${res.status} x-status ${res.headers.get('x-status') ?? ''}`)
  }
  const replies = await Promise.all([a, b].flatMap((url) => Array.from({ length: perProcess }, async () => {
    const res = await fetch(`${url}/count`, { signal: AbortSignal.timeout(30_000) })
    await res.arrayBuffer()
    return { url, count: Number(res.headers.get('x-count')), retries: Number(res.headers.get('x-retries')), result: res.headers.get('x-status') }
  })))
  assert.deepEqual(replies.filter((r) => r.result !== OK), [], 'every increment succeeded')
  const total = 2 * perProcess
  for (const url of [a, b]) assert.equal(await (await read(url)).text(), String(total), `${url} reads the total`)
  assert.deepEqual(replies.map((r) => r.count).sort((x, y) => x - y), Array.from({ length: total }, (_, i) => i + 1), 'each increment wrote a different value')
  assert.ok(replies.reduce((s, r) => s + r.retries, 0) >= perProcess - 1, 'the increments raced (CAS_MISMATCH, then a retry)')
})
