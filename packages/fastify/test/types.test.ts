// Type-level checks of the plugin's declaration merging; `npm test` type-checks this file
// (tsconfig.test.json), and the runtime test below keeps it in the suite.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import Fastify from 'fastify'
import type { Wafer } from '@wafer/core'
import wafer, { type WaferPluginOptions } from '../src/index.ts'
import { fixture } from '../../../test/support/index.ts'

test('route config and the fastify.wafer decoration are typed', async () => {
  const app = Fastify()
  const options: WaferPluginOptions = { filters: { x: { module: fixture('noop') }, y: { module: fixture('noop') } }, chains: { none: [] } }
  await app.register(wafer, options)
  app.get('/a', { config: { wafer: { chain: ['x', 'y'] } } }, async () => 'a')
  app.get('/b', { config: { wafer: { chain: 'none' } } }, async () => 'b')
  app.get('/c', { config: { wafer: false } }, async () => 'c')
  // @ts-expect-error a chain is a name or an array of names, not a number
  assert.throws(() => app.get('/d', { config: { wafer: { chain: 42 } } }, async () => 'd'), { code: 'WAFER_ERR_OPTIONS_INVALID' })
  // @ts-expect-error `wafer: true` is not a route option
  assert.throws(() => app.get('/e', { config: { wafer: true } }, async () => 'e'), { code: 'WAFER_ERR_OPTIONS_INVALID' })
  const runtime: Wafer = app.wafer
  assert.deepEqual(runtime.status().chains, { none: [] })
  await app.close()
})
