// proxy_close_stream (docs/proxy-wasm.md, "Closing the stream") through the Fastify plugin, the
// Express middleware and the gateway over real sockets: a WAT guest (proxy-close-stream) closes
// the request's stream in the request phase, in the response phase, or from a tick while the
// request is paused. The client's connection closes without a response, the route does not run
// (or its reply is not sent), the next request on a new connection is served by the same
// instance, the guest still gets proxy_on_done, proxy_on_log and proxy_on_delete, and the
// closed stream is an info line naming the filter in a real pino logger's JSON lines.
import assert from 'node:assert/strict'
import { once } from 'node:events'
import { createServer, request as httpRequest, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { test, type TestContext } from 'node:test'
import express from 'express'
import Fastify from 'fastify'
import wafer from '@wafer/fastify'
import { createWaferMiddleware } from '@wafer/express'
import type { Wafer, WaferDefinition } from '@wafer/core'
import { captureLogger, fixture, listenLocal, until, type LogLine } from '../support/index.ts'
import { startGateway } from '../support/proxy-harness.ts'

const FILTERS: WaferDefinition['filters'] = { closer: { module: fixture('proxy-close-stream'), pool: { min: 1, max: 1 } } }

interface App {
  url: string
  runtime: Wafer
  lines: LogLine[]
  /** How many requests the route ran for. */
  routed: () => number
}

async function fastifyApp (t: TestContext, filters = FILTERS): Promise<App> {
  const { logger, lines } = captureLogger('info')
  const app = Fastify({ loggerInstance: logger })
  await app.register(wafer, { filters, chain: ['closer'] })
  let routed = 0
  app.all('/*', async () => { routed++; return { ok: true } })
  const url = await app.listen({ port: 0, host: '127.0.0.1' })
  t.after(() => app.close())
  return { url, runtime: app.wafer, lines, routed: () => routed }
}

async function expressApp (t: TestContext, filters = FILTERS): Promise<App> {
  const { logger, lines } = captureLogger('info')
  const middleware = await createWaferMiddleware({ filters, chain: ['closer'], logger })
  const app = express()
  let routed = 0
  app.use(middleware)
  app.use((_req: express.Request, res: express.Response) => { routed++; res.json({ ok: true }) })
  const { url, close } = await listenLocal(app, () => middleware.close())
  t.after(close)
  return { url, runtime: middleware.wafer, lines, routed: () => routed }
}

type Outcome = { status: number, body: string } | { error: string }

/** One request on a new connection: its response, or the error code when the connection closed without one. */
function send (url: string, headers: Record<string, string> = {}, body?: string): Promise<Outcome> {
  return new Promise((resolve) => {
    const req = httpRequest(url, { agent: false, headers, method: body === undefined ? 'GET' : 'POST' })
    req.on('response', (res) => {
      const chunks: Buffer[] = []
      res.on('data', (c: Buffer) => chunks.push(c))
      res.on('end', () => { resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString() }) })
      res.on('error', (err: NodeJS.ErrnoException) => { resolve({ error: `${err.code ?? err.message} (after the head)` }) })
    })
    req.on('error', (err: NodeJS.ErrnoException) => { resolve({ error: err.code ?? err.message }) })
    req.end(body)
  })
}

/** The guest's own lines and the host's line for the closed stream, in order, for filter "closer". */
function closerLines (lines: LogLine[]): string[] {
  return lines.filter((l) => l.filter === 'closer' && !l.msg.includes(' loaded from ')).map((l) => l.decision === 'close' ? `host: ${String(l.phase)} ${l.level}` : l.msg)
}

const adapters = [['fastify', fastifyApp], ['express', expressApp]] as const

for (const [name, make] of adapters) {
  test(`${name}: proxy_close_stream in the request phase resets the connection; the route does not run; the instance serves the next request`, async (t) => {
    const app = await make(t)
    assert.deepEqual(await send(`${app.url}/a`, { 'x-close': 'request' }), { error: 'ECONNRESET' })
    await until('the request ended in the guest', () => app.lines.some((l) => l.msg === 'delete'))
    assert.equal(app.routed(), 0, 'the route did not run')
    assert.deepEqual(closerLines(app.lines), ['close status 0', 'closed request', 'host: request 30', 'done', 'log', 'delete'])
    const line = app.lines.find((l) => l.decision === 'close') as LogLine
    assert.match(line.msg, /filter "closer" closed the stream in the request phase/)
    const next = await send(`${app.url}/b`)
    assert.deepEqual(next, { status: 200, body: '{"ok":true}' })
    assert.equal(app.routed(), 1)
    const pool = app.runtime.filter('closer')?.status().pool
    assert.equal(pool?.created, 1, 'one instance served both requests')
    assert.equal(pool?.discarded, 0)
    assert.ok(!app.lines.some((l) => l.level >= 50), 'no error line')
  })

  test(`${name}: proxy_close_stream in the response phase resets the connection; the route's reply is not sent`, async (t) => {
    const app = await make(t)
    assert.deepEqual(await send(`${app.url}/a`, { 'x-close': 'response' }), { error: 'ECONNRESET' })
    await until('the request ended in the guest', () => app.lines.some((l) => l.msg === 'delete'))
    assert.equal(app.routed(), 1, 'the route ran before the response phase')
    assert.deepEqual(closerLines(app.lines), ['closed response', 'host: response 30', 'done', 'log', 'delete'])
    assert.deepEqual(await send(`${app.url}/b`), { status: 200, body: '{"ok":true}' })
    assert.equal(app.runtime.filter('closer')?.status().pool.discarded, 0)
    assert.ok(!app.lines.some((l) => l.level >= 50), 'no error line')
  })

  test(`${name}: closed in the response phase of a filter that reads the reply body: the buffered reply is dropped`, async (t) => {
    const app = await make(t, { closer: { module: fixture('proxy-close-stream'), pool: { min: 1, max: 1 }, proxyWasm: { responseBody: true } } })
    assert.deepEqual(await send(`${app.url}/a`, { 'x-close': 'response' }), { error: 'ECONNRESET' })
    await until('the request ended in the guest', () => app.lines.some((l) => l.msg === 'delete'))
    assert.equal(app.routed(), 1)
    assert.deepEqual(closerLines(app.lines), ['closed response', 'host: response 30', 'done', 'log', 'delete'])
    assert.deepEqual(await send(`${app.url}/b`), { status: 200, body: '{"ok":true}' })
    assert.equal(app.runtime.filter('closer')?.status().pool.discarded, 0)
  })

  test(`${name}: proxy_close_stream in the request body callback resets the connection; the route does not run`, async (t) => {
    const app = await make(t, { closer: { module: fixture('proxy-close-stream'), pool: { min: 1, max: 1 }, proxyWasm: { requestBody: true } } })
    const outcome = await send(`${app.url}/a`, { 'x-close': 'body', 'content-type': 'text/plain' }, 'a body')
    assert.deepEqual(outcome, { error: 'ECONNRESET' })
    await until('the request ended in the guest', () => app.lines.some((l) => l.msg === 'delete'))
    assert.equal(app.routed(), 0)
    assert.deepEqual(closerLines(app.lines), ['close status 0', 'closed body', 'host: request 30', 'done', 'log', 'delete'])
    assert.deepEqual(await send(`${app.url}/b`, { 'content-type': 'text/plain' }, 'a body'), { status: 200, body: '{"ok":true}' })
    assert.equal(app.runtime.filter('closer')?.status().pool.discarded, 0)
  })

  test(`${name}: close_stream(DOWNSTREAM) is OK and closes nothing in an HTTP filter; an unknown stream type is BAD_ARGUMENT`, async (t) => {
    const app = await make(t)
    assert.deepEqual(await send(`${app.url}/a`, { 'x-close': 'downstream' }), { status: 200, body: '{"ok":true}' })
    assert.deepEqual(await send(`${app.url}/a`, { 'x-close': 'bad' }), { status: 200, body: '{"ok":true}' })
    assert.equal(app.routed(), 2)
    const statuses = app.lines.filter((l) => l.filter === 'closer' && l.msg.startsWith('close status')).map((l) => l.msg)
    assert.deepEqual(statuses, ['close status 0', 'close status 2'])
    assert.ok(!app.lines.some((l) => l.decision === 'close'))
  })

  test(`${name}: a paused request closed from a tick (its context made effective) is reset; the route does not run`, async (t) => {
    const app = await make(t)
    assert.deepEqual(await send(`${app.url}/a`, { 'x-close': 'tick' }), { error: 'ECONNRESET' })
    await until('the request ended in the guest', () => app.lines.some((l) => l.msg === 'delete'))
    assert.equal(app.routed(), 0)
    assert.deepEqual(closerLines(app.lines), ['close status 0', 'closed tick', 'host: request 30', 'done', 'log', 'delete'])
    assert.deepEqual(await send(`${app.url}/b`), { status: 200, body: '{"ok":true}' })
    assert.equal(app.runtime.filter('closer')?.status().pool.discarded, 0)
  })
}

test('gateway: closed in the request phase the upstream is never called; in the response phase the upstream\'s streamed reply is reset', async (t) => {
  let received = 0
  const aborted: boolean[] = []
  const upstream = createServer((req, res: ServerResponse) => {
    received++
    if (req.url === '/slow') {
      // Streams without an end: only a reset from the gateway ends it.
      res.writeHead(200, { 'content-type': 'text/plain' })
      res.write('first chunk')
      res.on('close', () => { aborted.push(!res.writableFinished) })
      return
    }
    res.end('upstream')
  })
  upstream.listen(0, '127.0.0.1')
  await once(upstream, 'listening')
  t.after(() => { upstream.closeAllConnections(); upstream.close() })
  const { port, lines, gateway } = await startGateway(t, {
    filters: FILTERS,
    routes: [{ match: { path: '/' }, chain: ['closer'], upstream: `http://127.0.0.1:${(upstream.address() as AddressInfo).port}` }]
  })
  const url = `http://127.0.0.1:${port}`
  assert.deepEqual(await send(`${url}/a`, { 'x-close': 'request' }), { error: 'ECONNRESET' })
  assert.equal(received, 0, 'the upstream was not called')
  assert.deepEqual(await send(`${url}/slow`, { 'x-close': 'response' }), { error: 'ECONNRESET' })
  assert.equal(received, 1)
  await until('the upstream saw its reply reset', () => aborted.length === 1)
  assert.deepEqual(aborted, [true], 'the upstream\'s reply was cut off, not finished')
  await until('both requests ended in the guest', () => lines.filter((l) => l.msg === 'delete').length === 2)
  assert.deepEqual(lines.filter((l) => l.decision === 'close').map((l) => [l.filter, l.phase]), [['closer', 'request'], ['closer', 'response']])
  assert.deepEqual(await send(`${url}/b`), { status: 200, body: 'upstream' })
  const status = gateway.app.wafer.filter('closer')?.status()
  assert.equal(status?.pool.discarded, 0)
  assert.ok(!lines.some((l) => l.level >= 50), 'no error line')
})
