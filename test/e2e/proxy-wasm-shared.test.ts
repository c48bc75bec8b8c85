// Proxy-Wasm shared data and metrics in one process (docs/proxy-wasm.md, "Shared data",
// "Metrics") through both adapters over real sockets: an unmodified SDK filter
// (test/fixtures/guests/proxy-sdk-shared.ts) keeps a counter with CAS retries under concurrent
// requests; CAS_MISMATCH and NOT_FOUND; VM ids; hostile pointers to every new host call
// (proxy-hostile-shared.wat). Across processes on Redis: proxy-wasm-shared-redis.test.ts.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import type { WaferDefinition } from '@wafer/core'
import { fixture } from '../support/index.ts'
import { adapters, failure, runApp } from '../support/adapter-apps.ts'

/** proxy_status_t values the guest reports. */
const OK = '0'
const NOT_FOUND = '1'
const CAS_MISMATCH = '8'

/** One shared-data operation through the filter on `path`. */
async function op (url: string, path: string, headers: Record<string, string>): Promise<{ status: number, body: string, headers: Headers }> {
  const res = await fetch(`${url}${path}`, { headers })
  return { status: res.status, body: await res.text(), headers: res.headers }
}

const HOSTILE: ReadonlyArray<[string, string]> = [
  ['a', 'proxy_get_shared_data'], ['b', 'proxy_get_shared_data'], ['c', 'proxy_get_shared_data'],
  ['d', 'proxy_set_shared_data'], ['e', 'proxy_set_shared_data'],
  ['f', 'proxy_define_metric'], ['g', 'proxy_define_metric'], ['h', 'proxy_get_metric']
]

for (const [adapter, make] of adapters) {
  test(`${adapter}: a shared-data counter incremented with CAS retries by 40 concurrent requests ends at exactly 40`, async (t) => {
    const n = 40
    const app = await runApp(t, make, { filters: { shared: { module: fixture('proxy-sdk-shared'), pool: { max: n + 2 } } }, routes: [{ path: '/count', chain: ['shared'] }, { path: '/op', chain: ['shared'] }], barrier: n })
    assert.equal((await op(app.url, '/op', { 'x-op': 'set', 'x-value': '0' })).headers.get('x-status'), OK)
    const replies = await Promise.all(Array.from({ length: n }, async () => {
      const res = await fetch(`${app.url}/count`, { headers: { 'x-op': 'incr' } })
      await res.arrayBuffer()
      return { status: res.status, count: Number(res.headers.get('x-count')), retries: Number(res.headers.get('x-retries')), result: res.headers.get('x-status') }
    }))
    assert.ok(replies.every((r) => r.status === 200 && r.result === OK), JSON.stringify(replies.filter((r) => r.result !== OK)))
    const final = await op(app.url, '/op', { 'x-op': 'read' })
    assert.equal(final.body, String(n))
    assert.deepEqual(replies.map((r) => r.count).sort((a, b) => a - b), Array.from({ length: n }, (_, i) => i + 1), 'each request wrote a different value')
    const retries = replies.reduce((sum, r) => sum + r.retries, 0)
    assert.ok(retries >= n - 1, `every request read the counter before any wrote it, so all but one had to retry: ${retries} retries`)
  })

  test(`${adapter}: NOT_FOUND for a missing key, CAS_MISMATCH for a stale CAS, a new CAS on every write, CAS 0 sets whatever is there`, async (t) => {
    const app = await runApp(t, make, { filters: { shared: { module: fixture('proxy-sdk-shared') } }, routes: [{ path: '/op', chain: ['shared'] }] })
    const missing = await op(app.url, '/op', { 'x-op': 'read', 'x-key': 'nothing' })
    assert.deepEqual([missing.status, missing.headers.get('x-status')], [404, NOT_FOUND])
    assert.equal((await op(app.url, '/op', { 'x-op': 'set', 'x-key': 'k', 'x-value': 'one', 'x-cas': '12345' })).headers.get('x-status'), OK, 'a missing key is written whatever the CAS (as in Envoy)')
    const first = await op(app.url, '/op', { 'x-op': 'read', 'x-key': 'k' })
    const cas1 = first.headers.get('x-cas') as string
    assert.deepEqual([first.status, first.body], [200, 'one'])
    assert.notEqual(cas1, '0')
    assert.equal((await op(app.url, '/op', { 'x-op': 'set', 'x-key': 'k', 'x-value': 'two', 'x-cas': cas1 })).headers.get('x-status'), OK)
    const second = await op(app.url, '/op', { 'x-op': 'read', 'x-key': 'k' })
    assert.equal(second.body, 'two')
    assert.notEqual(second.headers.get('x-cas'), cas1, 'the CAS changed with the write')
    assert.equal((await op(app.url, '/op', { 'x-op': 'set', 'x-key': 'k', 'x-value': 'stale', 'x-cas': cas1 })).headers.get('x-status'), CAS_MISMATCH)
    assert.equal((await op(app.url, '/op', { 'x-op': 'read', 'x-key': 'k' })).body, 'two', 'a refused write changes nothing')
    assert.equal((await op(app.url, '/op', { 'x-op': 'set', 'x-key': 'k', 'x-value': 'three' })).headers.get('x-status'), OK, 'CAS 0: unconditional')
    assert.equal((await op(app.url, '/op', { 'x-op': 'read', 'x-key': 'k' })).body, 'three')
    assert.equal((await op(app.url, '/op', { 'x-op': 'set', 'x-key': 'k', 'x-value': 'x', 'x-repeat': String(64 * 1024 + 1) })).headers.get('x-status'), '2', 'a value over 64 KiB: BAD_ARGUMENT')
    assert.equal((await op(app.url, '/op', { 'x-op': 'set', 'x-key': 'k', 'x-value': 'x', 'x-repeat': String(64 * 1024) })).headers.get('x-status'), OK, 'a value of 64 KiB is fine')
  })

  test(`${adapter}: filters with the same proxyWasm.vmId share data; another VM id, or none, does not see it`, async (t) => {
    const module = fixture('proxy-sdk-shared')
    const app = await runApp(t, make, {
      filters: { a: { module, proxyWasm: { vmId: 'vm1' } }, b: { module, proxyWasm: { vmId: 'vm1' } }, c: { module, proxyWasm: { vmId: 'vm2' } }, d: { module } },
      routes: [{ path: '/a', chain: ['a'] }, { path: '/b', chain: ['b'] }, { path: '/c', chain: ['c'] }, { path: '/d', chain: ['d'] }]
    })
    assert.equal((await op(app.url, '/a', { 'x-op': 'set', 'x-key': 'shared', 'x-value': 'from a' })).headers.get('x-status'), OK)
    assert.equal((await op(app.url, '/b', { 'x-op': 'read', 'x-key': 'shared' })).body, 'from a')
    assert.equal((await op(app.url, '/c', { 'x-op': 'read', 'x-key': 'shared' })).status, 404)
    assert.equal((await op(app.url, '/d', { 'x-op': 'read', 'x-key': 'shared' })).status, 404)
    assert.equal((await op(app.url, '/d', { 'x-op': 'set', 'x-key': 'shared', 'x-value': 'default vm' })).headers.get('x-status'), OK)
    assert.equal((await op(app.url, '/b', { 'x-op': 'read', 'x-key': 'shared' })).body, 'from a', 'the default VM (empty vm id) is a VM of its own')
  })

  test(`${adapter}: a bad pointer or length to a shared-data or metric host call fails the request with WAFER_ERR_ABI_BAD_POINTER naming the call`, async (t) => {
    const filters: WaferDefinition['filters'] = {}
    const routes: Array<{ path: string, chain: string[] }> = []
    for (const [c] of HOSTILE) {
      filters[`ptr-${c}`] = { module: fixture('proxy-hostile-shared'), config: c }
      routes.push({ path: `/ptr/${c}`, chain: [`ptr-${c}`] })
    }
    const app = await runApp(t, make, { filters, routes })
    const { lines } = app
    for (const [c, call] of HOSTILE) {
      const res = await fetch(`${app.url}/ptr/${c}`)
      const body = await res.json() as { code: string, filter: string }
      assert.deepEqual([res.status, body.code, body.filter], [503, 'WAFER_ERR_ABI_BAD_POINTER', `ptr-${c}`], `case ${c} (${call})`)
      const err = failure(lines, `ptr-${c}`)
      assert.equal(err?.code, 'WAFER_ERR_ABI_BAD_POINTER', `case ${c}`)
      assert.ok(err?.message.includes(call), `case ${c}: ${err?.message}`)
    }
  })
}
