// Registering the plugin with several filters that fail to load: one error names every one.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import Fastify from 'fastify'
import wafer from '../src/index.ts'
import { fixture } from '../../../test/support/index.ts'

test('registration with two broken filters fails with WAFER_ERR_FILTERS_FAILED naming both, each with its code', async () => {
  const app = Fastify()
  const filters = {
    good: { module: fixture('noop') },
    old: { module: fixture('abi-v9') },
    picky: { module: fixture('reject-config') }
  }
  const err = await app.register(wafer, { filters, chain: ['good'] }).ready().then(() => assert.fail('expected registration to fail'), (e: unknown) => e as Error & { code: string, errors: Array<{ code: string }>, filters: string[] })
  assert.equal(err.code, 'WAFER_ERR_FILTERS_FAILED')
  assert.match(err.message, /^2 of 3 filters failed to load, each with its own error:\n {2}- "old": WAFER_ERR_ABI_VERSION: .*abi-v9\.wasm.*\n {2}- "picky": WAFER_ERR_FILTER_CONFIG: /)
  assert.deepEqual(err.filters, ['old', 'picky'])
  assert.deepEqual(err.errors.map((e) => e.code), ['WAFER_ERR_ABI_VERSION', 'WAFER_ERR_FILTER_CONFIG'])
  await app.close()
})
