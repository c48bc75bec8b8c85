// A filter's namespace in the shared store (abi/filter-store.ts): keys decoded from guest memory,
// prefixed with the filter's name; a repeated key is served from a small cache checked against
// the bytes, so a guest that rewrites its key buffer always gets its new key.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { createWafer, Exchange, MemoryStore, type KvStore } from '../src/index.ts'
import { FilterStore, MAX_KEY_BYTES, MAX_VALUE_BYTES } from '../src/abi/filter-store.ts'
import { GuestMemory } from '../src/abi/guest-memory.ts'
import { fixture, silent } from '../../../test/support/index.ts'

function memoryWith (): { mem: GuestMemory, put: (at: number, s: string) => number } {
  const memory = new WebAssembly.Memory({ initial: 1 })
  const mem = new GuestMemory()
  mem.attach(memory)
  const put = (at: number, s: string): number => Buffer.from(memory.buffer).write(s, at, 'utf8')
  return { mem, put }
}

test('keys are prefixed with the filter\'s name and follow the bytes, wherever they are', () => {
  const { mem, put } = memoryWith()
  const store = new FilterStore('limiter')
  assert.equal(store.prefix, 'limiter:')
  const n = put(100, 'fw:client-a')
  assert.equal(store.key(mem, 100, n), 'limiter:fw:client-a')
  assert.equal(store.key(mem, 100, n), 'limiter:fw:client-a', 'repeated')
  put(100, 'fw:client-b')
  assert.equal(store.key(mem, 100, n), 'limiter:fw:client-b', 'same address and length, new bytes: a new key')
  put(300, 'fw:client-a')
  assert.equal(store.key(mem, 300, n), 'limiter:fw:client-a', 'same bytes elsewhere')
  assert.equal(store.key(mem, 300, 3), 'limiter:fw:', 'a prefix of a cached key is its own key')
  assert.equal(store.key(mem, 0, 0), 'limiter:', 'the empty key')
  const u = put(500, 'zähler/ü')
  assert.equal(store.key(mem, 500, u), 'limiter:zähler/ü', 'UTF-8 keys are decoded as UTF-8')
  assert.equal(store.key(mem, 500, u), 'limiter:zähler/ü')
})

test('many keys in turn: each call answers its own key', () => {
  const { mem, put } = memoryWith()
  const store = new FilterStore('f')
  for (let round = 0; round < 3; round++) {
    for (let i = 0; i < 100; i++) {
      const n = put(64, `ip:10.0.0.${i}`)
      assert.equal(store.key(mem, 64, n), `f:ip:10.0.0.${i}`)
    }
  }
})

test('the limits are the documented ones (docs/abi.md section 4)', () => {
  assert.deepEqual([MAX_KEY_BYTES, MAX_VALUE_BYTES], [512, 65536])
})

test('through the native ABI: kv keys reach the store prefixed with the filter\'s name, over several requests', async (t) => {
  const inner = new MemoryStore()
  const keys: string[] = []
  const store: KvStore = {
    get: (k) => { keys.push(k); return inner.get(k) },
    set: (k, v, o) => { keys.push(k); return inner.set(k, v, o) },
    incr: (k, o) => { keys.push(k); return inner.incr(k, o) },
    delete: (k) => { keys.push(k); return inner.delete(k) }
  }
  const w = await createWafer({ logger: silent, store, filters: { counter: { module: fixture('v2-kv') } } })
  t.after(async () => { await w.close() })
  for (let i = 1; i <= 3; i++) {
    const ex = new Exchange({ id: String(i), method: 'GET', url: '/', headers: {}, remoteAddress: '127.0.0.1', log: silent })
    w.compose(['counter']).runRequest(ex)
    assert.equal(ex.headers['x-hits'], String(i))
  }
  assert.deepEqual(keys, ['counter:hits', 'counter:hits', 'counter:hits'])
})

test('a kept key is checked against every byte: each length up to past the kept limit, any one byte changed', () => {
  const { mem, put } = memoryWith()
  const store = new FilterStore('f')
  for (let len = 1; len <= 140; len++) {
    const key = Array.from({ length: len }, (_, i) => String.fromCharCode(0x61 + ((i * 7 + len) % 26))).join('')
    put(1000, key)
    assert.equal(store.key(mem, 1000, len), `f:${key}`, `${len} bytes`)
    assert.equal(store.key(mem, 1000, len), `f:${key}`, `${len} bytes, again`)
    for (const i of new Set([0, len >> 1, len - 1])) {
      const changed = `${key.slice(0, i)}#${key.slice(i + 1)}`
      put(1000, changed)
      assert.equal(store.key(mem, 1000, len), `f:${changed}`, `${len} bytes, byte ${i} changed`)
      put(1000, key)
      assert.equal(store.key(mem, 1000, len), `f:${key}`, `${len} bytes, byte ${i} back`)
    }
  }
  // A non-ASCII byte in the last, partial word is still UTF-8.
  const n = put(2000, 'abcdé')
  assert.equal(store.key(mem, 2000, n), 'f:abcdé')
})
