// The Proxy-Wasm glue's pieces tested directly: detection and validation against the tables in
// abi/proxy-wasm/spec.ts, the serialised header maps, the plugin configuration, and the status
// every host call Wafer does not implement answers with. Behaviour through the adapters is in
// test/e2e/proxy-wasm.test.ts.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import type { FuncType, ModuleInfo } from '../src/index.ts'
import { detectProxyWasm, validateProxyWasm } from '../src/abi/proxy-wasm/check-module.ts'
import { parsePairs, serializePairs } from '../src/abi/proxy-wasm/pairs.ts'
import { pluginConfiguration } from '../src/abi/proxy-wasm/callback-args.ts'
import { proxyImports } from '../src/abi/proxy-wasm/host-calls.ts'
import type { Glue } from '../src/abi/proxy-wasm/glue.ts'
import { PROXY_CALLS, sig } from '../src/abi/proxy-wasm/spec.ts'
import { WASI_CALLS } from '../src/abi/proxy-wasm/wasi.ts'
import { GuestMemory } from '../src/abi/guest-memory.ts'
import { FilterCall } from '../src/http/request-context.ts'
import { silent } from '../../../test/support/index.ts'

const fn = (name: string, type: FuncType) => ({ name, kind: 'function' as const, type })
const imp = (module: string, name: string, type: FuncType) => ({ module, name, kind: 'function' as const, type })

/** A module with the 0.2.1 marker, memory and an allocator, plus `more`. */
function module (more: Partial<ModuleInfo> = {}, marker = 'proxy_abi_version_0_2_1'): ModuleInfo {
  return {
    imports: more.imports ?? [],
    exports: [{ name: 'memory', kind: 'memory' }, fn(marker, sig('')), fn('proxy_on_memory_allocate', sig('i', 'i')), ...(more.exports ?? [])],
    memories: []
  }
}

const refusal = (info: ModuleInfo, grants?: string[]): { code: string, message: string } => {
  try {
    validateProxyWasm(info, 'f.wasm', grants)
  } catch (err) {
    return err as { code: string, message: string }
  }
  return assert.fail('expected the module to be refused')
}

test('detection: one known marker runs; an unknown version or two markers are refused as a version', () => {
  assert.equal(detectProxyWasm(module()), true)
  assert.equal(detectProxyWasm(module({}, 'proxy_abi_version_0_1_0')), true)
  assert.deepEqual(detectProxyWasm(module({}, 'proxy_abi_version_1_0_0')), { refused: 'version', declared: 'Proxy-Wasm ABI 1.0.0 (proxy_abi_version_1_0_0)' })
  assert.equal(detectProxyWasm({ imports: [], exports: [fn('wafer_abi_version_2', sig(''))], memories: [] }), false)
})

test('a module importing every host call and WASI function the tables list, with every signature they accept, validates', () => {
  const imports = [
    ...Object.entries(PROXY_CALLS).flatMap(([name, call]) => call.sigs.map((s) => imp('env', name, s))),
    ...Object.entries(WASI_CALLS).map(([name, call]) => imp('wasi_snapshot_preview1', name, call.sig)),
    imp('wasi_unstable', 'fd_write', sig('iiii', 'i')),
    imp('env', 'emscripten_notify_memory_growth', sig('i'))
  ]
  assert.deepEqual(validateProxyWasm(module({ imports }), 'f.wasm'), { abi: 'proxy-wasm', version: '0.2.1', request: true, response: false })
})

test('imports the host does not provide are refused together, naming the module and each import', () => {
  const err = refusal(module({
    imports: [imp('env', 'proxy_log', sig('iii', 'i')), imp('env', 'proxy_dictionary_get', sig('iiii', 'i')), imp('env', 'proxy_kv_store_open', sig('iii', 'i')), imp('wasi_snapshot_preview2', 'fd_write', sig('iiii', 'i'))]
  }))
  assert.equal(err.code, 'WAFER_ERR_ABI_UNKNOWN_IMPORT')
  assert.match(err.message, /^Filter module f\.wasm imports "env"\."proxy_dictionary_get", "env"\."proxy_kv_store_open", "wasi_snapshot_preview2"\."fd_write", which the host does not provide: a Proxy-Wasm ABI 0\.2\.1 module may import/)
})

test('signatures, the allocator, memory and capabilities are checked before anything runs', () => {
  const cases: Array<[ModuleInfo, string, RegExp, string[]?]> = [
    [module({ imports: [imp('env', 'proxy_log', sig('ii', 'i'))] }), 'WAFER_ERR_ABI_BAD_SIGNATURE', /import "env"\."proxy_log" has signature \(i32, i32\) -> i32, expected a function \(i32, i32, i32\) -> i32/],
    [module({ exports: [fn('proxy_on_request_headers', sig('ii', 'i'))] }), 'WAFER_ERR_ABI_BAD_SIGNATURE', /export "proxy_on_request_headers" has signature \(i32, i32\) -> i32, expected a function \(i32, i32, i32\) -> i32/],
    [module({ exports: [fn('proxy_on_request_headers', sig('iii', 'i'))] }, 'proxy_abi_version_0_1_0'), 'WAFER_ERR_ABI_BAD_SIGNATURE', /expected a function \(i32, i32\) -> i32/],
    [{ imports: [], exports: [{ name: 'memory', kind: 'memory' }, fn('proxy_abi_version_0_2_1', sig(''))], memories: [] }, 'WAFER_ERR_ABI_MISSING_EXPORT', /"proxy_on_memory_allocate" or "malloc"/],
    [{ imports: [], exports: [fn('proxy_abi_version_0_2_1', sig('')), fn('malloc', sig('i', 'i'))], memories: [] }, 'WAFER_ERR_ABI_MISSING_EXPORT', /"memory"/],
    [module({ imports: [imp('wasi_snapshot_preview1', 'fd_write', sig('iiii', 'i'))] }), 'WAFER_ERR_CAPABILITY_DENIED', /imports "wasi_snapshot_preview1"\."fd_write", which needs the "log" capability; the filter is granted: kv/, ['kv']]
  ]
  for (const [info, code, message, grants] of cases) {
    const err = refusal(info, grants)
    assert.equal(err.code, code, message.source)
    assert.match(err.message, message)
  }
  assert.deepEqual(validateProxyWasm(module({ exports: [fn('proxy_on_request_headers', sig('ii', 'i')), fn('proxy_on_response_headers', sig('ii', 'i'))] }, 'proxy_abi_version_0_1_0'), 'f.wasm'),
    { abi: 'proxy-wasm', version: '0.1.0', request: true, response: true })
})

test('header maps serialise as the spec says and parse back; malformed maps are described, not thrown', () => {
  const bytes = serializePairs([['a', '1'], ['b', '22']])
  assert.deepEqual([...bytes], [2, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 0x61, 0, 0x31, 0, 0x62, 0, 0x32, 0x32, 0])
  assert.deepEqual(parsePairs(bytes), [['a', '1'], ['b', '22']])
  assert.deepEqual(parsePairs(serializePairs([['x-latin', 'caf\u00e9']])), [['x-latin', 'caf\u00e9']], 'bytes, one character each')
  assert.deepEqual([parsePairs(new Uint8Array(0)), parsePairs(new Uint8Array([0]))], [[], []], 'both forms of the empty map')
  assert.match(parsePairs(bytes.subarray(0, bytes.length - 2)) as string, /pair 1 \(lengths 1 and 2\) runs past the end/)
  assert.match(parsePairs(new Uint8Array([0xff, 0xff, 0xff, 0x7f, 0, 0])) as string, /a count of 2147483647 pairs does not fit/)
  assert.match(parsePairs(new Uint8Array([1, 0])) as string, /too short/)
})

test('the plugin configuration: a string verbatim, other JSON as its text, none (or {}) empty', () => {
  assert.equal(pluginConfiguration(Buffer.from(JSON.stringify('a "quoted" text'))).toString(), 'a "quoted" text')
  assert.equal(pluginConfiguration(Buffer.from(JSON.stringify({ hosts: ['a'] }))).toString(), '{"hosts":["a"]}')
  assert.equal(pluginConfiguration(Buffer.from('{}')).length, 0)
  assert.equal(pluginConfiguration(Buffer.from('[1,2]')).toString(), '[1,2]')
})

test('every host call Wafer does not implement answers the status the table gives it, without a fault', () => {
  const faults: string[] = []
  const mem = new GuestMemory()
  mem.attach(new WebAssembly.Memory({ initial: 1 }))
  const glue: Glue = {
    mem,
    call: new FilterCall(),
    host: { filter: 'f', source: 'f.wasm', store: undefined as never, kv: undefined as never, logger: silent, limits: { fuel: undefined, memoryPages: undefined, timeoutMs: 1000, maxResumes: 8, maxOutputBytes: 1024 } },
    stage: 'request',
    rootId: 1,
    contextId: 2,
    configuration: undefined,
    allocating: false,
    broken: false,
    log: () => {},
    badPointer: (where) => { faults.push(where); return 6 },
    refuse: (where) => { faults.push(where); return 2 },
    tooLarge: () => false,
    give: () => 0,
    put: () => true,
    continueStream: () => {},
    setEffectiveContext: () => 0,
    callout: undefined,
    startCall: () => undefined,
    setTickPeriod: () => {},
    proxyDone: () => 1,
    queueReceiver: { queueReady: () => {} }
  }
  const imports = proxyImports(glue) as Record<string, (...args: number[]) => number>
  let checked = 0
  for (const [name, call] of Object.entries(PROXY_CALLS)) {
    if (call.answer === undefined) continue
    assert.equal(imports[name]?.(0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0), call.answer, name)
    checked++
  }
  assert.ok(checked >= 5, `${checked} unimplemented calls checked`)
  assert.deepEqual(faults, [])
  assert.equal(imports.proxy_call_foreign_function?.(0, 4, 0, 0, 0, 0), 1, 'no foreign function is defined: NOT_FOUND')
  assert.equal(imports.proxy_set_effective_context?.(2), 0)
  assert.equal(imports.proxy_set_effective_context?.(7), 2, 'an unknown context id is BAD_ARGUMENT')
  assert.equal(imports.proxy_continue_stream?.(9), 2, 'an unknown stream type is BAD_ARGUMENT')
  assert.equal(imports.proxy_log?.(9, 0, 0), 2, 'an unknown log level is BAD_ARGUMENT')
})
