// Type-level checks against @types/express 5; `npm test` type-checks this file (tsconfig.test.json),
// and the runtime test below keeps it in the suite.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import express from 'express'
import type { ReloadReport, Wafer } from '@wafer/core'
import { createWaferMiddleware, wafer, type WaferExpressOptions, type WaferHandler, type WaferMiddleware } from '../src/index.ts'
import defaultExport from '../src/index.ts'
import { fixture, silent } from '../../../test/support/index.ts'

test('the middleware and its chains fit app.use, router.use and route handlers', async () => {
  const options: WaferExpressOptions = { filters: { x: { module: fixture('noop') } }, chains: { none: [] }, chain: 'none', logger: silent }
  const mw: WaferMiddleware = await createWaferMiddleware(options)
  const app = express()
  const router = express.Router()
  app.use(mw)
  app.use('/api', router)
  router.use(mw.chain(['x']))
  app.get('/a', mw.chain('none'), (_req, res) => { res.send('a') })
  const handler: WaferHandler = mw.chain(['x'])
  // @ts-expect-error a chain is a name or an array of names, not a number
  assert.throws(() => mw.chain(42), { code: 'WAFER_ERR_OPTIONS_INVALID' })
  // @ts-expect-error unknown options are type errors too
  assert.throws(() => wafer({ ...options, chian: ['x'] }), { code: 'WAFER_ERR_OPTIONS_INVALID' })
  const runtime: Wafer = mw.wafer
  const ready: Promise<Wafer> = mw.ready
  const reload: (config?: string) => Promise<ReloadReport> = mw.reload
  assert.equal(await ready, runtime)
  assert.equal(typeof handler, 'function')
  assert.equal(typeof reload, 'function')
  assert.equal(defaultExport, wafer)
  assert.equal(mw.length, 3, 'Express tells middleware from error handlers by arity')
  await mw.close()
})
