// The native ABI v2 host (docs/abi.md): host calls over the request context, no JSON.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { CONTINUE, createWafer, Exchange, type KvStore, type Wafer } from '../src/index.ts'
import { fixture, silent } from '../../../test/support/index.ts'
import { wat } from './sandbox-guest.ts'
import { delayedStore } from '../../../test/support/stores.ts'

function exchange (headers: Record<string, string> = {}): Exchange {
  return new Exchange({ id: 'req-1', method: 'GET', url: '/items?page=2', headers: { host: 'example.com', ...headers }, remoteAddress: '127.0.0.1', log: silent })
}

async function one (name: string, more: { store?: KvStore, config?: unknown } = {}): Promise<Wafer> {
  return createWafer({ logger: silent, ...(more.store === undefined ? {} : { store: more.store }), filters: { f: { module: fixture(name), ...(more.config === undefined ? {} : { config: more.config }) } } })
}

test('v2: a filter reads a header and sets headers on the request and on whatever response it gets', async () => {
  const w = await one('v2-stamp')
  assert.equal(w.filter('f')?.status().abi, 'wafer-native/2')
  const ex = exchange({ 'x-in': 'hello' })
  assert.equal(w.compose(['f']).runRequest(ex), CONTINUE)
  assert.equal(ex.headers['x-seen'], 'hello', 'the value read by header_get was written back by header_set')
  assert.equal(ex.headers['x-stamp'], 'a', 'a mixed-case name is lower-cased')
  assert.deepEqual(ex.responseHeaders, { 'x-added': '1' })
  const plain = exchange()
  w.compose(['f']).runRequest(plain)
  assert.equal(plain.headers['x-seen'], undefined, 'header_get answered NOT_FOUND')
  await w.close()
})

test('v2: the response phase reads the status and changes the reply headers', async () => {
  const w = await one('v2-stamp')
  const ex = exchange()
  const chain = w.compose(['f'])
  chain.runRequest(ex)
  ex.response = { status: 204, headers: { 'content-type': 'text/plain' }, body: undefined, changed: false, bodyChanged: false }
  chain.runResponse(ex)
  assert.equal(ex.response.headers['x-stamped'], '4')
  assert.equal(ex.response.changed, true)
  await w.close()
})

test('v2: an in-memory store answers inside the import call (no PAUSE); a remote one through wafer_on_resume', async () => {
  const w = await one('v2-kv')
  const first = exchange()
  assert.equal(w.compose(['f']).runRequest(first), CONTINUE, 'synchronous: no promise')
  assert.deepEqual([first.headers['x-kv'], first.headers['x-hits']], ['sync', '1'])
  const second = exchange()
  w.compose(['f']).runRequest(second)
  assert.equal(second.headers['x-hits'], '2')
  await w.close()

  const remote = await one('v2-kv', { store: delayedStore().store })
  const ex = exchange()
  const d = remote.compose(['f']).runRequest(ex)
  assert.ok(d instanceof Promise, 'a store that answers later makes the phase asynchronous')
  assert.equal(await d, CONTINUE)
  assert.deepEqual([ex.headers['x-kv'], ex.headers['x-hits']], ['async', '1'])
  await remote.close()
})

test('v2: respond with local headers, path and query rewrites, and config rejection', async () => {
  const w = await one('v2-respond', { config: {} })
  const denied = w.compose(['f']).runRequest(exchange())
  assert.ok(!(denied instanceof Promise) && denied.respond)
  assert.deepEqual(denied.response, { status: 401, headers: { 'www-authenticate': 'Bearer', 'content-type': 'text/plain; charset=utf-8' }, body: 'denied' })
  const ex = exchange({ 'x-api-key': 'k' })
  assert.equal(w.compose(['f']).runRequest(ex), CONTINUE)
  assert.deepEqual([ex.path, ex.query, ex.url, ex.pathChanged, ex.queryChanged], ['/rewritten', 'q=1', '/rewritten?q=1', true, true])
  await w.close()
  await assert.rejects(one('v2-respond', { config: 'bad' }), { code: 'WAFER_ERR_FILTER_CONFIG', message: /config "bad" is refused/ })
})

test('a module built for ABI version 1 is refused with a coded error that says to rebuild it', async () => {
  const bytes = await wat('(module (memory (export "memory") 1) (func (export "wafer_abi_version_1")) (func (export "wafer_alloc") (param i32) (result i32) (i32.const 0)) (func (export "wafer_on_request") (param i32 i32) (result i32) (i32.const 0)))')
  await assert.rejects(createWafer({ logger: silent, filters: { old: { module: bytes } } }), {
    code: 'WAFER_ERR_ABI_VERSION', message: /version 1 .*replaced; rebuild the filter with the current @wafer\/sdk-assemblyscript/
  })
})
