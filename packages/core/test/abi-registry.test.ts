// ABIs register with detect(moduleInfo); selection reports the coded errors of docs/abi.md section 1.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { checkAbi, supportedAbis, type ModuleInfo } from '../src/index.ts'
import { registerAbi, selectAbi } from '../src/abi/index.ts'
import { nativeAbi } from '../src/abi/native/index.ts'
import { proxyWasmAbi } from '../src/abi/proxy-wasm/index.ts'
import type { GuestAbi } from '../src/abi/types.ts'

const moduleWith = (...names: string[]): ModuleInfo => ({
  imports: [],
  exports: names.map((name) => ({ name, kind: 'function' as const, type: { params: [], results: [] } })),
  memories: []
})

const refusal = (info: ModuleInfo): { code: string, message: string } => {
  try {
    selectAbi(info, 'f.wasm')
  } catch (err) {
    return err as { code: string, message: string }
  }
  return assert.fail('expected the module to be refused')
}

test('the native ABI registers itself and runs wafer_abi_version_2 modules, also beside a Proxy-Wasm marker', () => {
  assert.equal(supportedAbis(), 'wafer_abi_version_2, proxy_abi_version_0_2_1 (or 0_2_0, 0_1_0)')
  assert.equal(selectAbi(moduleWith('wafer_abi_version_2'), 'f.wasm'), nativeAbi)
  assert.equal(selectAbi(moduleWith('proxy_abi_version_0_2_1', 'wafer_abi_version_2'), 'f.wasm'), nativeAbi)
  assert.equal(nativeAbi.perRequest, false)
})

test('the Proxy-Wasm ABI registers itself after the native one and runs the 0.2.1, 0.2.0 and 0.1.0 markers, bound per request', () => {
  for (const marker of ['proxy_abi_version_0_2_1', 'proxy_abi_version_0_2_0', 'proxy_abi_version_0_1_0']) {
    assert.equal(selectAbi(moduleWith(marker), 'f.wasm'), proxyWasmAbi, marker)
  }
  assert.equal(proxyWasmAbi.perRequest, true)
  assert.ok(proxyWasmAbi.budgetEntries.includes('proxy_on_request_headers'))
  assert.equal(proxyWasmAbi.budgetEntries.includes('malloc'), false, 'the allocator runs on the budget of the callback that needed it')
})

test('selection errors keep their codes and messages', () => {
  const cases: Array<[string[], string, RegExp]> = [
    [['wafer_abi_version_9'], 'WAFER_ERR_ABI_VERSION', /^Filter module f\.wasm declares ABI version 9 \(wafer_abi_version_9\); this host supports wafer_abi_version_2, proxy_abi_version_0_2_1 \(or 0_2_0, 0_1_0\)$/],
    [['wafer_abi_version_1'], 'WAFER_ERR_ABI_VERSION', /declares ABI version 1 \(wafer_abi_version_1: JSON documents\), which version 2 \(host calls\) replaced; rebuild/],
    [['wafer_abi_version_2', 'wafer_abi_version_3'], 'WAFER_ERR_ABI_VERSION', /declares ABI versions 2 and 3 at once; this host supports wafer_abi_version_2, proxy_abi_version_0_2_1 \(or 0_2_0, 0_1_0\)$/],
    [['proxy_abi_version_0_3_0'], 'WAFER_ERR_ABI_VERSION', /^Filter module f\.wasm declares ABI Proxy-Wasm ABI 0\.3\.0 \(proxy_abi_version_0_3_0\); this host supports wafer_abi_version_2, proxy_abi_version_0_2_1/],
    [['proxy_abi_version_0_2_1', 'proxy_abi_version_0_2_0'], 'WAFER_ERR_ABI_VERSION', /declares ABI Proxy-Wasm ABIs 0\.2\.1 and 0\.2\.0 at once/],
    [['proxy_abi_version_0_3_0', 'wafer_abi_version_9'], 'WAFER_ERR_ABI_VERSION', /version 9/],
    [['on_request'], 'WAFER_ERR_ABI_MISSING_VERSION', /expected an exported function named wafer_abi_version_<N> \(supported: wafer_abi_version_2, proxy_abi_version_0_2_1/]
  ]
  for (const [exports, code, message] of cases) {
    const err = refusal(moduleWith(...exports))
    assert.equal(err.code, code, exports.join(', '))
    assert.match(err.message, message)
  }
})

test('a registered ABI is asked after those before it; removing it restores the table', (t) => {
  const seen: string[] = []
  const other: GuestAbi = {
    ...nativeAbi,
    id: 'other',
    version: 1,
    marker: 'other_abi_1',
    perRequest: true,
    detect: (info) => {
      seen.push(info.exports.map((e) => e.name).join())
      if (info.exports.some((e) => e.name === 'other_abi_1')) return true
      if (info.exports.some((e) => e.name === 'other_abi_2')) return { refused: 'unsupported', declared: 'other ABI 2' }
      return info.exports.some((e) => e.name === 'other_abi_0') ? { refused: 'version', declared: 'other ABI 0' } : false
    }
  }
  const remove = registerAbi(other)
  t.after(remove)
  assert.equal(supportedAbis(), 'wafer_abi_version_2, proxy_abi_version_0_2_1 (or 0_2_0, 0_1_0), other_abi_1')
  assert.equal(selectAbi(moduleWith('other_abi_1'), 'f.wasm'), other)
  assert.equal(selectAbi(moduleWith('wafer_abi_version_2', 'other_abi_1'), 'f.wasm'), nativeAbi, 'the first registered that runs it wins')
  assert.deepEqual(seen, ['other_abi_1'], 'not asked once an earlier ABI took the module')
  assert.match(refusal(moduleWith('other_abi_0')).message, /declares ABI other ABI 0; this host supports wafer_abi_version_2, proxy_abi_version_0_2_1 \(or 0_2_0, 0_1_0\), other_abi_1/)
  const unsupported = refusal(moduleWith('other_abi_2'))
  assert.equal(unsupported.code, 'WAFER_ERR_ABI_UNSUPPORTED', 'an ABI recognised but not run is refused as unsupported')
  assert.equal(unsupported.message, 'Filter module f.wasm speaks other ABI 2, which this host does not support yet')
  assert.equal(refusal(moduleWith('wafer_abi_version_9', 'other_abi_0')).message.includes('version 9'), true, 'the first refusal is reported')
  assert.throws(() => registerAbi(other), { code: 'WAFER_ERR_INTERNAL', message: /other\/1 is registered already/ })
  remove()
  assert.equal(supportedAbis(), 'wafer_abi_version_2, proxy_abi_version_0_2_1 (or 0_2_0, 0_1_0)')
  assert.equal(refusal(moduleWith('other_abi_1')).code, 'WAFER_ERR_ABI_MISSING_VERSION')
})

test('checkAbi selects and validates without instantiating', () => {
  const info: ModuleInfo = {
    imports: [],
    exports: [
      { name: 'memory', kind: 'memory' },
      { name: 'wafer_abi_version_2', kind: 'function', type: { params: [], results: [] } },
      { name: 'wafer_on_response', kind: 'function', type: { params: [], results: ['i32'] } }
    ],
    memories: []
  }
  assert.deepEqual(checkAbi(info, 'f.wasm'), { abi: 'wafer-native', version: 2, request: false, response: true })
})
