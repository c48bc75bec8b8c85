// The middleware on core's request driver: every chain a request passes is finished exactly
// once when its response closes, the generation left once; the reply's headers are read one at
// a time.
import assert from 'node:assert/strict'
import type { ServerResponse } from 'node:http'
import { test, type TestContext } from 'node:test'
import express from 'express'
import { createWaferMiddleware, type WaferMiddleware } from '../src/index.ts'
import { fixture, silent } from '../../../test/support/index.ts'
import { abortInRoute, countFinish } from '../../../test/support/count-finish.ts'
import { listen } from './support/app.ts'

const filters = {
  stamp: { module: fixture('stamp') },
  a: { module: fixture('tag'), config: { name: 'A' } },
  deny: { module: fixture('deny') }
}

async function middleware (t: TestContext): Promise<WaferMiddleware> {
  const mw = await createWaferMiddleware({ filters, chain: ['stamp'], logger: silent })
  t.after(() => mw.close())
  return mw
}

test('a request through the global chain and a route\'s: each finished once, the generation left once', async (t) => {
  const mw = await middleware(t)
  const app = express()
  app.use(mw)
  app.get('/both', mw.chain(['a']), (_req, res) => { res.send('ok') })
  app.get('/deny', mw.chain(['deny']), (_req, res) => { res.send('never') })
  const url = await listen(t, app)
  const generation = mw.wafer.generation
  const global = countFinish(t, generation.chain(['stamp']))
  const route = countFinish(t, generation.chain(['a']))
  const denied = countFinish(t, generation.chain(['deny']))
  const res = await fetch(`${url}/both`)
  assert.equal(await res.text(), 'ok')
  assert.equal(res.headers.get('x-stamped'), 'a')
  assert.equal((await fetch(`${url}/deny`)).status, 403)
  while (generation.inflight > 0) await new Promise((resolve) => setImmediate(resolve))
  assert.deepEqual([global.count, route.count, denied.count], [2, 1, 1])
})

test('a client that leaves mid-request: finished when the response closes, once', async (t) => {
  const mw = await middleware(t)
  const app = express()
  app.use(mw)
  let entered: () => void = () => {}
  const inRoute = new Promise<void>((resolve) => { entered = resolve })
  let late: ServerResponse | undefined
  app.get('/slow', (_req, res) => {
    late = res
    entered()
  })
  const url = new URL(await listen(t, app))
  const generation = mw.wafer.generation
  const counter = countFinish(t, generation.chain(['stamp']))
  await abortInRoute(url.hostname, Number(url.port), '/slow', inRoute, generation)
  assert.equal(counter.count, 1)
  late?.end('late')
  await new Promise((resolve) => setTimeout(resolve, 20))
  assert.equal(counter.count, 1)
})

test('a header-only response filter: no copy of the reply\'s header list', async (t) => {
  const mw = await middleware(t)
  const app = express()
  let copies = 0
  app.use((_req, res, next) => {
    const getHeaders = res.getHeaders.bind(res)
    res.getHeaders = () => {
      copies++
      return getHeaders()
    }
    next()
  })
  app.use(mw)
  app.get('/x', (_req, res) => { res.set('x-route', '1').send('ok') })
  const res = await fetch(`${await listen(t, app)}/x`)
  assert.equal(res.headers.get('x-stamped'), 'a')
  assert.equal(res.headers.get('x-route'), '1')
  assert.equal(copies, 0)
})
