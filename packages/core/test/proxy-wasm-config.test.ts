// A Proxy-Wasm filter's `proxyWasm` settings (docs/config.md, docs/proxy-wasm.md): checked by
// the schema with the JSON path of each problem, carried from a config file to the runtime
// (derived filters included), and part of what makes a reload load the filter anew.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { createWafer, resolveConfig, toWaferFilters } from '../src/index.ts'
import { resolveFilterOptions } from '../src/runtime/filter-options.ts'
import { filterFingerprint as fingerprintOf } from '../src/runtime/filter.ts'
import { fixture, silent } from '../../../test/support/index.ts'

test('proxyWasm is carried from a config file to createWafer, into derived filters too', () => {
  const config = resolveConfig({
    filters: { waf: { module: 'waf.wasm', config: 'strict', proxyWasm: { requestBody: true, rootId: 'waf', vmConfig: { engine: 'on' } } } },
    chains: { main: ['waf', { filter: 'waf', config: 'lenient' }] },
    routes: [{ match: { path: '/' }, chain: 'main', respond: {} }]
  }, '<object>', '/')
  const filters = toWaferFilters(config)
  assert.deepEqual(filters.waf?.proxyWasm, { requestBody: true, rootId: 'waf', vmConfig: { engine: 'on' } })
  assert.deepEqual(filters['waf.main.1']?.proxyWasm, filters.waf?.proxyWasm, 'a derived filter keeps the settings of the filter it derives from')
  assert.equal(filters['waf.main.1']?.config, 'lenient')
})

test('wrong proxyWasm settings are refused with their JSON paths, never replaced by defaults', () => {
  assert.throws(() => resolveConfig({
    filters: { waf: { module: 'waf.wasm', proxyWasm: { requestBody: 'yes', rootid: 'x', vmId: 7 } } },
    routes: [{ match: { path: '/' }, respond: {} }]
  }, '<object>', '/'), (err: Error & { code: string }) => {
    assert.equal(err.code, 'WAFER_ERR_CONFIG_INVALID')
    assert.match(err.message, /\/filters\/waf\/proxyWasm\/requestBody: must be true or false, got "yes"/)
    assert.match(err.message, /\/filters\/waf\/proxyWasm\/rootid: unknown key \(allowed: requestBody, responseBody, vmConfig, rootId, vmId, upstreams/)
    assert.match(err.message, /\/filters\/waf\/proxyWasm\/vmId: must be a string, got 7/)
    return true
  })
})

test('a change of proxyWasm changes the filter: a reload loads it anew', async (t) => {
  const fingerprint = (proxyWasm?: object): string => fingerprintOf('sha', resolveFilterOptions('p', { module: 'p.wasm', ...(proxyWasm === undefined ? {} : { proxyWasm }) }))
  assert.notEqual(fingerprint(), fingerprint({ rootId: 'a' }))
  assert.notEqual(fingerprint({ rootId: 'a' }), fingerprint({ rootId: 'b' }))
  const w = await createWafer({ logger: silent, filters: { p: { module: fixture('proxy-sdk-body'), proxyWasm: { rootId: 'a' } } } })
  t.after(() => w.close())
  const report = await w.reload({ filters: { p: { module: fixture('proxy-sdk-body'), proxyWasm: { rootId: 'b', requestBody: true } } } })
  assert.deepEqual([report.outcome, report.loaded], ['applied', ['p']])
  assert.equal(w.filter('p')?.needs.requestBody, true)
})
