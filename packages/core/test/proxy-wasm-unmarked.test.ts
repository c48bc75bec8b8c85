// ABI 0.1.0 modules without a version marker (older Istio builds): recognised by what every such
// module has (check-module.ts `unmarkedV010`), strictly enough that a module that merely uses a
// `proxy_` name is not claimed. Behaviour through the adapters: test/e2e/proxy-wasm-solo.test.ts.
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { test } from 'node:test'
import { createWafer, readModuleInfo, type FuncType, type ModuleInfo } from '../src/index.ts'
import { detectProxyWasm, moduleVersion, unmarkedV010, validateProxyWasm } from '../src/abi/proxy-wasm/check-module.ts'
import { sig } from '../src/abi/proxy-wasm/spec.ts'
import { captureLogger, fixture } from '../../../test/support/index.ts'

const fn = (name: string, type: FuncType) => ({ name, kind: 'function' as const, type })
const imp = (module: string, name: string, type: FuncType) => ({ module, name, kind: 'function' as const, type })

/** What an unmarked 0.1.0 module has, with `drop` left out and `more` added. */
function unmarked (drop: string[] = [], more: Partial<ModuleInfo> = {}): ModuleInfo {
  const exports = [
    { name: 'memory', kind: 'memory' as const },
    fn('malloc', sig('i', 'i')),
    fn('proxy_on_context_create', sig('ii')),
    fn('proxy_on_configure', sig('ii', 'i')),
    fn('proxy_on_request_headers', sig('ii', 'i'))
  ].filter((e) => !drop.includes(e.name))
  const imports = [imp('env', 'proxy_log', sig('iii', 'i'))].filter((i) => !drop.includes(i.name))
  return { imports: [...imports, ...(more.imports ?? [])], exports: [...exports, ...(more.exports ?? [])], memories: [] }
}

test('an unmarked module with the 0.1.0 callbacks, an allocator and a Proxy-Wasm import is run as ABI 0.1.0', () => {
  const info = unmarked()
  assert.equal(detectProxyWasm(info), true)
  assert.equal(moduleVersion(info), '0_1_0')
  assert.deepEqual(validateProxyWasm(info, 'old.wasm'), { abi: 'proxy-wasm', version: '0.1.0', request: true, response: false })
  // proxy_on_memory_allocate is as good an allocator as malloc.
  assert.equal(unmarkedV010(unmarked(['malloc'], { exports: [fn('proxy_on_memory_allocate', sig('i', 'i'))] })), true)
})

test('an unmarked module is not claimed without everything a 0.1.0 module has', () => {
  const cases: Array<[string, ModuleInfo]> = [
    ['no memory', unmarked(['memory'])],
    ['no allocator', unmarked(['malloc'])],
    ['no proxy_on_context_create', unmarked(['proxy_on_context_create'])],
    ['no callback a filter is called by', unmarked(['proxy_on_configure', 'proxy_on_request_headers'])],
    ['no Proxy-Wasm host call imported', unmarked(['proxy_log'])],
    ['a proxy_ import from another module', unmarked(['proxy_log'], { imports: [imp('wafer', 'proxy_log', sig('iii', 'i'))] })],
    ['a proxy_ import with another signature', unmarked(['proxy_log'], { imports: [imp('env', 'proxy_log', sig('ii', 'i'))] })],
    ['0.2.x headers callbacks (with end_of_stream)', unmarked(['proxy_on_request_headers'], { exports: [fn('proxy_on_request_headers', sig('iii', 'i'))] })],
    ['a callback with a signature of no version', unmarked([], { exports: [fn('proxy_on_done', sig('', 'i'))] })],
    ['a callback name that is not a function', unmarked([], { exports: [{ name: 'proxy_on_log', kind: 'global' as const }] })]
  ]
  for (const [what, info] of cases) {
    assert.equal(detectProxyWasm(info), false, what)
    assert.equal(moduleVersion(info), undefined, what)
  }
  // A marker decides by itself, as in the cpp-host.
  assert.equal(unmarkedV010(unmarked([], { exports: [fn('proxy_abi_version_0_2_1', sig(''))] })), false)
})

test('the unmarked WAT fixture loads as proxy-wasm/0.1.0, is configured and says so in its log', async (t) => {
  const info = readModuleInfo(readFileSync(fixture('proxy-v010-unmarked')))
  assert.ok(!info.exports.some((e) => e.name.startsWith('proxy_abi_version_')), 'the fixture has no marker')
  const { logger, lines } = captureLogger('info')
  const wafer = await createWafer({ logger, filters: { old: { module: fixture('proxy-v010-unmarked'), config: 'v1' } } })
  t.after(() => wafer.close())
  assert.equal(wafer.filter('old')?.status().abi, 'proxy-wasm/0.1.0')
  assert.ok(lines.some((l) => l.filter === 'old' && l.msg === 'unmarked 0.1.0 module configured'), JSON.stringify(lines))
})
