// The hostile-guest corpus through the runtime: what the request gets, what is logged, and that
// the next request is served. (One file: loading binaryen under tsx takes seconds per process.)
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { createWafer, Exchange, MemoryStore, type FilterOptions, type KvStore } from '../src/index.ts'
import { captureLogger, exampleFilter, fixture, silent } from '../../../test/support/index.ts'

const exchange = (log = silent) => new Exchange({ id: 'r', method: 'GET', url: '/', headers: {}, remoteAddress: '127.0.0.1', log })

async function failsWith (options: FilterOptions, code: string, message: RegExp, reason: string) {
  const { logger, lines } = captureLogger()
  const w = await createWafer({ logger, filters: { f: options, ok: { module: fixture('variant-a'), limits: options.limits } } })
  const d = await w.compose(['f']).runRequest(exchange(logger))
  assert.ok(d.respond, 'the hostile call is answered, not hung')
  assert.equal(d.response?.status, 503)
  assert.deepEqual(JSON.parse(d.response?.body as string), { statusCode: 503, code, error: 'Service Unavailable', message: 'Filter "f" failed', filter: 'f', reason })
  const line = lines.find((l) => l.level === 50 && l.filter === 'f')
  assert.match((line?.err as { message: string } | undefined)?.message ?? '', message)
  assert.equal(w.filter('f')?.status().pool.discarded, 1, 'the instance is discarded and replaced')
  const next = exchange()
  w.compose(['ok']).runRequest(next)
  assert.equal(next.headers['x-variant'], 'a', 'the next request is served')
  await w.close()
}

test('an infinite loop runs out of fuel: WAFER_ERR_FILTER_FUEL', async () => {
  await failsWith({ module: fixture('hostile-loop'), limits: { fuel: 1_000_000 } }, 'WAFER_ERR_FILTER_FUEL', /ran out of fuel in wafer_on_request: one phase of a request may use 1000000/, 'fuel')
})

test('unbounded recursion is stopped (fuel or stack, whichever comes first)', async () => {
  const { logger } = captureLogger()
  const w = await createWafer({ logger, filters: { f: { module: fixture('hostile-recursion'), limits: { fuel: 1_000_000 } } } })
  const d = await w.compose(['f']).runRequest(exchange(logger))
  assert.ok(d.respond)
  assert.match(JSON.parse(d.response?.body as string).code, /^WAFER_ERR_FILTER_(FUEL|TRAP)$/)
  await w.close()
})

test('a memory bomb hits the cap inside the guest: WAFER_ERR_FILTER_MEMORY', async () => {
  await failsWith({ module: fixture('hostile-memory-bomb'), limits: { memoryPages: 4 } }, 'WAFER_ERR_FILTER_MEMORY', /at its memory limit of 4 pages/, 'memory')
})

test('huge output is refused before the host reads it: WAFER_ERR_ABI_BAD_OUTPUT', async () => {
  await failsWith({ module: fixture('hostile-huge-output'), limits: { maxOutputBytes: 65536 } }, 'WAFER_ERR_ABI_BAD_OUTPUT', /exceeds limits\.maxOutputBytes \(65536\)/, 'abi')
})

test('a store operation that never completes: WAFER_ERR_FILTER_DEADLINE after limits.timeoutMs', async () => {
  const hang: KvStore = { get: () => undefined, set: () => {}, delete: () => false, incr: () => new Promise(() => {}) }
  const { logger, lines } = captureLogger()
  const w = await createWafer({ logger, store: hang, filters: { f: { module: fixture('kv-incr'), limits: { timeoutMs: 50 } } } })
  const d = await w.compose(['f']).runRequest(exchange(logger))
  assert.ok(d.respond)
  assert.equal(JSON.parse(d.response?.body as string).code, 'WAFER_ERR_FILTER_DEADLINE')
  assert.match((lines.find((l) => l.level === 50)?.err as { message: string }).message, /did not finish its phase within 50 ms of its first wait; it was waiting for kv_incr/)
  await w.close()
})

/** Each hostile-bad-pointers-<family> fixture, and the import its first bad pointer goes to. */
const pointerFamilies: Array<[family: string, first: string]> = [
  ['fields', 'get'], ['headers', 'header_get'], ['respond', 'respond'], ['log', 'log'], ['random-fill', 'random_fill'],
  ['kv-get', 'kv_get'], ['kv-set', 'kv_set'], ['kv-incr', 'kv_incr'], ['kv-del', 'kv_del']
]
for (const [family, first] of pointerFamilies) {
  test(`out-of-range pointers to the ${family} imports: WAFER_ERR_ABI_BAD_POINTER, never a host exception`, async () => {
    await failsWith({ module: fixture(`hostile-bad-pointers-${family}`) }, 'WAFER_ERR_ABI_BAD_POINTER', new RegExp(`in ${first}\\b`), 'abi')
  })
}

test('out-of-range pointers to config_read and init_reject in wafer_init: the load fails with WAFER_ERR_ABI_BAD_POINTER', async () => {
  await assert.rejects(createWafer({ logger: silent, filters: { f: { module: fixture('hostile-bad-pointers-config') } } }), {
    code: 'WAFER_ERR_ABI_BAD_POINTER', message: /in config_read\b/
  })
})

test('a loop in wafer_init fails the load with WAFER_ERR_FILTER_FUEL instead of hanging startup', async () => {
  await assert.rejects(createWafer({ logger: silent, filters: { f: { module: fixture('hostile-loop-in-init'), limits: { fuel: 1_000_000 } } } }), {
    code: 'WAFER_ERR_FILTER_FUEL', message: /in wafer_init/
  })
})

test('metered example filters behave as before', async () => {
  const store = new MemoryStore()
  const limits = { fuel: 50_000_000, memoryPages: 64 }
  const w = await createWafer({
    logger: silent,
    store,
    filters: {
      rid: { module: exampleFilter('request-id'), limits },
      limit: { module: exampleFilter('rate-limit'), config: { limit: 1, windowMs: 60000, key: 'ip' }, limits }
    }
  })
  const chain = w.compose(['rid', 'limit'])
  const first = exchange()
  assert.equal((await chain.runRequest(first)).respond, false)
  assert.match(String(first.headers['x-request-id']), /^[0-9a-f-]{36}$/)
  const second = await chain.runRequest(exchange())
  assert.ok(second.respond && second.response?.status === 429)
  await w.close()
})

test('limits that cannot be applied are refused at load: WAFER_ERR_MODULE_LIMITS', async () => {
  await assert.rejects(createWafer({ logger: silent, filters: { f: { module: fixture('two-pages'), limits: { memoryPages: 1 } } } }), {
    code: 'WAFER_ERR_MODULE_LIMITS', message: /two-pages\.wasm cannot be sandboxed with its limits/
  })
})

test('instrumented modules are cached on disk: reused, rebuilt when corrupt, never when turned off', async (t) => {
  const { mkdtemp, readdir, readFile, writeFile } = await import('node:fs/promises')
  const { tmpdir } = await import('node:os')
  const { join } = await import('node:path')
  const { instrumentCached } = await import('../src/sandbox/instrument-cache.ts')
  const previous = process.env.WAFER_CACHE_DIR
  t.after(() => { if (previous === undefined) delete process.env.WAFER_CACHE_DIR; else process.env.WAFER_CACHE_DIR = previous })
  const dir = await mkdtemp(join(tmpdir(), 'wafer-cache-'))
  process.env.WAFER_CACHE_DIR = dir
  const bytes = await readFile(fixture('noop'))
  const first = await instrumentCached(bytes, { fuel: true })
  const entry = (await readdir(dir))[0] ?? assert.fail('one entry written')
  assert.ok(entry.endsWith('.wasm'))
  assert.deepEqual(await readFile(join(dir, entry)), Buffer.from(first))
  assert.deepEqual(Buffer.from(await instrumentCached(bytes, { fuel: true })), Buffer.from(first), 'read back')
  assert.notDeepEqual(Buffer.from(await instrumentCached(bytes, { fuel: false, memoryPages: 2 })), Buffer.from(first), 'other options, other entry')
  await writeFile(join(dir, entry), 'garbage')
  assert.deepEqual(Buffer.from(await instrumentCached(bytes, { fuel: true })), Buffer.from(first), 'a corrupt entry is rebuilt')
  const entries = (await readdir(dir)).length
  process.env.WAFER_CACHE_DIR = 'off'
  await instrumentCached(bytes, { fuel: true, memoryPages: 3 })
  process.env.WAFER_CACHE_DIR = dir
  assert.equal((await readdir(dir)).length, entries, 'off: a new combination is instrumented but not stored')
})

test('metering is on by default and can be turned off per filter', async () => {
  const w = await createWafer({ logger: silent, filters: { d: { module: fixture('hostile-loop') }, off: { module: fixture('noop'), limits: { fuel: false } } } })
  const d = await w.compose(['d']).runRequest(exchange())
  assert.ok(d.respond && JSON.parse(d.response?.body as string).code === 'WAFER_ERR_FILTER_FUEL', 'the default budget stops an infinite loop')
  assert.equal((await w.compose(['off']).runRequest(exchange())).respond, false)
  await assert.rejects(createWafer({ logger: silent, filters: { x: { module: fixture('noop'), limits: { fuel: 10 } } } }), {
    code: 'WAFER_ERR_OPTIONS_INVALID', message: /\/filters\/x\/limits\/fuel: must be an integer >= 1000 or false, got 10/
  })
  await w.close()
})
