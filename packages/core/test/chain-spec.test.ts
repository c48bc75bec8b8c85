import assert from 'node:assert/strict'
import { test } from 'node:test'
import { checkChainSpec } from '../src/index.ts'

test('a chain in adapter options: a name or filter names; anything else names the adapter and the place', () => {
  assert.equal(checkChainSpec('@wafer/fastify', 'main', 'x'), 'main')
  const names = ['a', 'b']
  assert.equal(checkChainSpec('@wafer/express', names, 'x'), names)
  assert.deepEqual(checkChainSpec('@wafer/express', [], 'x'), [])
  for (const spec of [42, null, undefined, { name: 'main' }, ['a', 1]]) {
    assert.throws(() => checkChainSpec('@wafer/fastify', spec, 'route GET /x: "config.wafer.chain"'), {
      code: 'WAFER_ERR_OPTIONS_INVALID',
      message: `Invalid Wafer options: @wafer/fastify: route GET /x: "config.wafer.chain" must be a chain name or an array of filter names, got ${JSON.stringify(spec)}`
    })
  }
  assert.throws(() => checkChainSpec('@wafer/express', true, 'middleware.chain()'), { message: /^Invalid Wafer options: @wafer\/express: middleware\.chain\(\) must be/ })
})
