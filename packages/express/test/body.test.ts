// Request bodies: what filters that need them read, and what middleware after Wafer reads.
import assert from 'node:assert/strict'
import { request } from 'node:http'
import { Readable } from 'node:stream'
import { test, type TestContext } from 'node:test'
import express from 'express'
import { createWaferMiddleware, type WaferMiddleware } from '../src/index.ts'
import { fixture, silent } from '../../../test/support/index.ts'
import { listen } from './support/app.ts'

async function middleware (t: TestContext, bodyLimit = 1000): Promise<WaferMiddleware> {
  const mw = await createWaferMiddleware({ filters: { upper: { module: fixture('body-upper') } }, chain: ['upper'], bodyLimit, logger: silent })
  t.after(() => mw.close())
  return mw
}

test('a route reading the stream itself (for await) gets the filtered body', async (t) => {
  const app = express()
  app.use(await middleware(t))
  app.post('/', async (req, res) => {
    const chunks: Buffer[] = []
    for await (const chunk of req) chunks.push(chunk as Buffer)
    res.json({ body: Buffer.concat(chunks).toString(), length: req.headers['content-length'] })
  })
  const res = await fetch(await listen(t, app), { method: 'POST', body: 'streamed' })
  assert.deepEqual(await res.json(), { body: 'STREAMED', length: '8' })
})

test('a chunked upload is read whole, and the parser after Wafer gets it', async (t) => {
  const app = express()
  app.use(await middleware(t))
  app.use(express.text())
  app.post('/', (req, res) => { res.json({ body: req.body, seen: req.headers['x-body'] }) })
  const body = Readable.toWeb(Readable.from([Buffer.from('chu'), Buffer.from('nked')])) as ReadableStream
  const res = await fetch(await listen(t, app), { method: 'POST', headers: { 'content-type': 'text/plain' }, body, duplex: 'half' } as RequestInit)
  assert.deepEqual(await res.json(), { body: 'CHUNKED', seen: '7' })
})

test('a declared length over bodyLimit is refused before reading, and a large upload still gets its 413', async (t) => {
  const app = express()
  app.use(await middleware(t, 1000))
  app.post('/', (_req, res) => { res.send('never') })
  const url = await listen(t, app)
  const res = await fetch(url, { method: 'POST', body: 'x'.repeat(5 * 1024 * 1024) })
  assert.equal(res.status, 413)
  assert.equal((await res.json() as { code: string }).code, 'WAFER_ERR_BODY_TOO_LARGE')
  const chunked = Readable.toWeb(Readable.from(Array.from({ length: 20 }, () => Buffer.alloc(100, 'y')))) as ReadableStream
  const second = await fetch(url, { method: 'POST', body: chunked, duplex: 'half' } as RequestInit)
  assert.equal(second.status, 413, 'without a length, counted while reading')
})

test('a body parser before Wafer has read the body: a body filter cannot run, and says so', async (t) => {
  const app = express()
  app.use(express.text())
  app.use(await middleware(t))
  app.post('/', (_req, res) => { res.send('never') })
  const res = await fetch(await listen(t, app), { method: 'POST', headers: { 'content-type': 'text/plain' }, body: 'early' })
  assert.equal(res.status, 500)
  assert.deepEqual(await res.json(), {
    statusCode: 500, code: 'WAFER_ERR_MIDDLEWARE_ORDER', error: 'Internal Server Error', message: 'The request body was read before the filters that need it'
  })
})

test('a client that goes away mid-body: nothing runs, and the request leaves its generation', async (t) => {
  const mw = await middleware(t, 1_000_000)
  let routed = false
  const app = express()
  app.use(mw)
  app.post('/', (_req, res) => {
    routed = true
    res.send('never')
  })
  const url = new URL(await listen(t, app))
  const entered = new Promise<void>((resolve) => {
    const check = setInterval(() => {
      if (mw.wafer.generation.inflight === 1) {
        clearInterval(check)
        resolve()
      }
    }, 2)
  })
  const req = request({ host: url.hostname, port: url.port, method: 'POST', headers: { 'content-length': '1000' } })
  req.on('error', () => {})
  req.write('partial')
  await entered
  req.destroy()
  for (let i = 0; i < 500 && mw.wafer.generation.inflight !== 0; i++) await new Promise((resolve) => setTimeout(resolve, 2))
  assert.equal(mw.wafer.generation.inflight, 0)
  assert.equal(routed, false)
})
