import assert from 'node:assert/strict'
import { readFile } from 'node:fs/promises'
import { test } from 'node:test'
import { createWafer, isWaferError, type WaferErrorCode } from '../src/index.ts'
import { fixture, silent } from '../../../test/support/index.ts'

async function loadError (module: string | Uint8Array, config?: unknown): Promise<Error & { code: string }> {
  const err = await createWafer({ logger: silent, filters: { f: { module, config } } }).then(
    () => assert.fail('expected the load to fail'),
    (e: unknown) => e as Error & { code: string }
  )
  assert.ok(isWaferError(err), `expected a WaferError, got ${String(err)}`)
  return err
}

const cases: Array<{ name: string, code: WaferErrorCode, mentions: string[] }> = [
  { name: 'abi-v9', code: 'WAFER_ERR_ABI_VERSION', mentions: ['version 9', 'wafer_abi_version_2'] },
  { name: 'no-version', code: 'WAFER_ERR_ABI_MISSING_VERSION', mentions: ['wafer_abi_version_<N>'] },
  { name: 'proxy-abi-0-3', code: 'WAFER_ERR_ABI_VERSION', mentions: ['Proxy-Wasm ABI 0.3.0', 'proxy_abi_version_0_2_1'] },
  { name: 'missing-resume', code: 'WAFER_ERR_ABI_MISSING_EXPORT', mentions: ['"wafer_on_resume"', '(i32) -> i32', 'kv_'] },
  { name: 'missing-phase', code: 'WAFER_ERR_ABI_MISSING_EXPORT', mentions: ['"wafer_on_request" or "wafer_on_response"', '() -> i32'] },
  { name: 'bad-signature', code: 'WAFER_ERR_ABI_BAD_SIGNATURE', mentions: ['"wafer_on_request"', 'has signature (i32, i32) -> i32', 'expected a function () -> i32'] },
  { name: 'unknown-import', code: 'WAFER_ERR_ABI_UNKNOWN_IMPORT', mentions: ['"env"."fd_write"', 'may only import from "wafer"'] },
  { name: 'bad-import-signature', code: 'WAFER_ERR_ABI_BAD_SIGNATURE', mentions: ['import "wafer"."header_set"', 'expected a function (i32, i32, i32, i32, i32) -> i32'] },
  { name: 'start-trap', code: 'WAFER_ERR_FILTER_INSTANTIATE', mentions: ['"f"', 'start function trapped'] },
  { name: 'reject-config', code: 'WAFER_ERR_FILTER_CONFIG', mentions: ['"f"', '"limit" must be a positive integer'] }
]

for (const c of cases) {
  test(`${c.name}.wasm fails to load with ${c.code}, naming the file`, async () => {
    const file = fixture(c.name)
    const err = await loadError(file)
    assert.equal(err.code, c.code)
    assert.ok(err.message.includes(file), `message should name ${file}: ${err.message}`)
    for (const m of c.mentions) assert.ok(err.message.includes(m), `message should mention ${m}: ${err.message}`)
  })
}

test('bytes that are not WebAssembly give WAFER_ERR_MODULE_INVALID', async () => {
  const err = await loadError(new TextEncoder().encode('definitely not wasm'))
  assert.equal(err.code, 'WAFER_ERR_MODULE_INVALID')
  assert.match(err.message, /<bytes> is not a valid WebAssembly module/)
})

test('a truncated module gives WAFER_ERR_MODULE_INVALID', async () => {
  const bytes = await readFile(fixture('stamp'))
  const err = await loadError(bytes.subarray(0, bytes.length - 5))
  assert.equal(err.code, 'WAFER_ERR_MODULE_INVALID')
})

test('a missing file gives WAFER_ERR_MODULE_READ naming the path', async () => {
  const err = await loadError('/nonexistent/dir/filter.wasm')
  assert.equal(err.code, 'WAFER_ERR_MODULE_READ')
  assert.match(err.message, /\/nonexistent\/dir\/filter\.wasm: no such file/)
})

test('when one filter fails to load, the error names it and the others are closed', async () => {
  const err = await createWafer({
    logger: silent,
    filters: { good: { module: fixture('noop') }, broken: { module: fixture('abi-v9') } }
  }).then(() => assert.fail('expected failure'), (e: unknown) => e as Error & { code: string })
  assert.equal(err.code, 'WAFER_ERR_ABI_VERSION')
  assert.match(err.message, /abi-v9\.wasm/)
})

test('invalid options are rejected with WAFER_ERR_OPTIONS_INVALID naming the field', async () => {
  const bad: Array<[unknown, RegExp]> = [
    [{ filters: { 'a:b': { module: fixture('noop') } } }, /\/filters\/a:b: invalid name: must be a name \(1-64 letters/],
    [{ filters: { f: { module: 42 } } }, /\/filters\/f\/module: must be a non-empty string or a Uint8Array of the module's bytes, got 42/],
    [{ filters: { f: { module: fixture('noop'), pool: { max: 0 } } } }, /\/filters\/f\/pool\/max: must be an integer >= 1, got 0/],
    [{ filters: { f: { module: fixture('noop'), pool: { min: 5, max: 2 } } } }, /\/filters\/f\/pool\/min: must not exceed pool.max \(2\), got 5/],
    [{ filters: { f: { module: fixture('noop'), pool: { size: 2 } } } }, /\/filters\/f\/pool\/size: unknown key \(allowed: min, max/],
    [{ filters: { f: { module: fixture('noop'), failurePolicy: 'ignore' } } }, /\/filters\/f\/failurePolicy: must be one of "fail-closed", "fail-open", got "ignore"/],
    [{ filters: { f: { module: fixture('noop'), confg: {} } } }, /\/filters\/f\/confg: unknown key \(allowed: module, config/],
    [{ filters: {}, chains: { c: ['missing'] } }, /uses filter "missing", which is not declared/],
    [{ filters: {}, loger: silent }, /\/loger: unknown key \(allowed: filters, chains/]
  ]
  for (const [options, message] of bad) {
    await assert.rejects(createWafer({ logger: silent, ...(options as object) } as never), (err: Error & { code: string }) => {
      assert.equal(err.code, err.code.startsWith('WAFER_ERR_CHAIN') ? 'WAFER_ERR_CHAIN_INVALID' : 'WAFER_ERR_OPTIONS_INVALID')
      assert.match(err.message, message)
      return true
    })
  }
})

test('each distinct module is compiled once, whatever the number of filters using it', async () => {
  const { ModuleCache } = await import('../src/runtime/module-cache.ts')
  const cache = new ModuleCache()
  const bytes = await readFile(fixture('noop'))
  const [a, b] = await Promise.all([cache.compile(bytes, 'a.wasm'), cache.compile(Buffer.from(bytes), 'b.wasm')])
  assert.equal(a.module, b.module)
  assert.equal(cache.size, 1)
  assert.match(a.sha256, /^[0-9a-f]{64}$/)
  await assert.rejects(cache.compile(Buffer.from('nope'), 'c.wasm'), { code: 'WAFER_ERR_MODULE_INVALID' })
  assert.equal(cache.size, 1, 'a failed compilation is not cached')
})

test('a filter imports only what its capabilities grant', async () => {
  const denied = await loadErrorWith({ module: fixture('kv-incr'), capabilities: ['log', 'clock'] }) ?? assert.fail('expected the load to fail')
  assert.equal(denied.code, 'WAFER_ERR_CAPABILITY_DENIED')
  assert.match(denied.message, /kv-incr\.wasm imports "wafer"\."kv_incr", which needs the "kv" capability; the filter is granted: log, clock/)
  const none = await loadErrorWith({ module: fixture('stamp'), capabilities: [] })
  assert.equal(none, undefined, 'header_set is the ABI itself: no capability needed')
  assert.equal(await loadErrorWith({ module: fixture('kv-incr'), capabilities: ['kv'] }), undefined)
  await assert.rejects(createWafer({ logger: silent, filters: { f: { module: fixture('stamp'), capabilities: ['fs'] as never } } }), {
    code: 'WAFER_ERR_OPTIONS_INVALID', message: /\/filters\/f\/capabilities\/0: must be one of "kv", "log", "clock", "random", "http", got "fs"/
  })
})

async function loadErrorWith (options: Parameters<typeof createWafer>[0]['filters'][string]): Promise<(Error & { code: string }) | undefined> {
  try {
    const w = await createWafer({ logger: silent, filters: { f: options } })
    await w.close()
    return undefined
  } catch (err) {
    return err as Error & { code: string }
  }
}
