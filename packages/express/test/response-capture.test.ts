// captureResponse on its own, with a stand-in chain, over a real socket: how a reply is held,
// changed and released whatever way the route writes it.
import assert from 'node:assert/strict'
import { once } from 'node:events'
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { Readable } from 'node:stream'
import { test, type TestContext } from 'node:test'
import { Exchange, type Chain } from '@wafer/core'
import { captureResponse } from '../src/response-capture.ts'
import { silent } from '../../../test/support/index.ts'

interface Stand {
  /** Whether the one filter of the stand-in chain needs the response body. */
  body?: boolean
  /** The response phase: changes `ex.response`; may return a promise (a filter that waited). */
  phase: (ex: Exchange) => void | Promise<void>
  limit?: number
}

async function serve (t: TestContext, stand: Stand, route: (req: IncomingMessage, res: ServerResponse) => void): Promise<string> {
  const chain = {
    filters: [{ hasResponsePhase: true, needs: { requestBody: false, responseBody: stand.body ?? false } }],
    responsePhaseFor: (reached: number) => reached === 0 ? 'none' : (stand.body ?? false) ? 'body' : 'headers',
    runResponse: stand.phase
  } as unknown as Chain
  const server = createServer((req, res) => {
    const ex = new Exchange({ id: 'req-1', method: req.method ?? 'GET', url: req.url ?? '/', headers: req.headers, remoteAddress: '127.0.0.1', log: silent })
    ex.reached = 1
    captureResponse(res, chain, ex, stand.limit ?? 1024)
    route(req, res)
  })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  t.after(() => {
    server.close()
    server.closeAllConnections()
  })
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`
}

const later = (ms = 5): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))

test('writeHead with headers: filters see them, and their changes go out with the status they set', async (t) => {
  let seen: unknown
  const url = await serve(t, {
    phase: (ex) => {
      const res = ex.response!
      seen = { status: res.status, headers: { ...res.headers } }
      res.status = 201
      res.headers['x-added'] = 'yes'
      delete res.headers['x-secret']
      res.changed = true
    }
  }, (_req, res) => {
    res.writeHead(200, 'Fine', { 'x-secret': 's', 'content-type': 'text/plain' }).end('body')
  })
  const res = await fetch(url)
  assert.equal(res.status, 201)
  assert.equal(res.statusText, 'Created', 'a changed status gets its own reason phrase')
  assert.equal(res.headers.get('x-added'), 'yes')
  assert.equal(res.headers.get('x-secret'), null)
  assert.equal(await res.text(), 'body')
  assert.deepEqual(seen, { status: 200, headers: { 'x-secret': 's', 'content-type': 'text/plain' } })
})

test('raw header arrays in writeHead keep repeated headers', async (t) => {
  let cookies: unknown
  const url = await serve(t, { phase: (ex) => { cookies = ex.response!.headers['set-cookie'] } }, (_req, res) => {
    res.writeHead(200, ['Set-Cookie', 'a=1', 'Set-Cookie', 'b=2', 'X-One', '1']).end()
  })
  const res = await fetch(url)
  assert.deepEqual(res.headers.getSetCookie(), ['a=1', 'b=2'])
  assert.equal(res.headers.get('x-one'), '1')
  assert.deepEqual(cookies, ['a=1', 'b=2'])
})

test('a header-only filter that waits: writes queue in order, a piped stream waits for drain, callbacks run', async (t) => {
  const callbacks: string[] = []
  const url = await serve(t, {
    phase: async (ex) => {
      await later(20)
      ex.response!.headers['x-waited'] = '1'
      ex.response!.changed = true
    }
  }, (_req, res) => {
    res.setHeader('content-type', 'text/plain')
    const first = res.write('one,', () => { callbacks.push('one') })
    assert.equal(first, false, 'the route is asked to wait while the filter runs')
    res.write('two,', () => { callbacks.push('two') })
    Readable.from(['three,', 'four']).pipe(res)
  })
  const res = await fetch(url)
  assert.equal(res.headers.get('x-waited'), '1')
  assert.equal(await res.text(), 'one,two,three,four')
  assert.deepEqual(callbacks, ['one', 'two'])
})

test('a header-only filter does not hold a streamed reply back once it is done', async (t) => {
  let release: () => void = () => {}
  const url = await serve(t, { phase: (ex) => { ex.response!.headers['x-f'] = '1'; ex.response!.changed = true } }, (_req, res) => {
    res.write('first')
    release = () => res.end('last')
  })
  const res = await fetch(url)
  assert.equal(res.headers.get('x-f'), '1')
  const reader = res.body!.getReader()
  const chunk = await reader.read()
  assert.equal(Buffer.from(chunk.value!).toString(), 'first', 'the first write arrived before the route ended the reply')
  release()
  let rest = ''
  for (let r = await reader.read(); !r.done; r = await reader.read()) rest += Buffer.from(r.value).toString()
  assert.equal(rest, 'last')
})

test('a reply replaced while the filter waited: the route\'s writes are dropped, its callbacks answered', async (t) => {
  let ended = false
  const url = await serve(t, {
    phase: async (ex) => {
      await later()
      const res = ex.response!
      res.status = 418
      res.headers = { 'content-type': 'text/plain' }
      res.body = Buffer.from('replaced')
      res.changed = true
      res.bodyChanged = true
    }
  }, (_req, res) => {
    res.setHeader('x-route', '1')
    res.write('route body')
    res.end(' more', () => { ended = true })
  })
  const res = await fetch(url)
  assert.equal(res.status, 418)
  assert.equal(res.headers.get('x-route'), null)
  assert.equal(res.headers.get('content-length'), '8')
  assert.equal(await res.text(), 'replaced')
  await later()
  assert.ok(ended, 'the end() callback ran')
})

test('body filters get the whole body however it was written, and a new body gets its length, not the old etag', async (t) => {
  let seen = ''
  const url = await serve(t, {
    body: true,
    phase: (ex) => {
      const res = ex.response!
      seen = res.body!.toString()
      res.body = Buffer.from(`[${seen}]`)
      res.changed = true
      res.bodyChanged = true
    }
  }, (_req, res) => {
    res.setHeader('etag', '"old"')
    res.setHeader('content-length', 9)
    res.write('héllo')
    res.write(Buffer.from(' wo'))
    res.end('rld', 'latin1')
  })
  const res = await fetch(url)
  assert.equal(seen, 'héllo world')
  assert.equal(await res.text(), '[héllo world]')
  assert.equal(res.headers.get('content-length'), String(Buffer.byteLength('[héllo world]')))
  assert.equal(res.headers.get('etag'), null, 'the etag described the old body')
})

test('a body filter that changes nothing: the route\'s reply goes out as written', async (t) => {
  const url = await serve(t, { body: true, phase: () => {} }, (_req, res) => {
    res.setHeader('etag', '"kept"')
    res.statusCode = 202
    res.end('as is')
  })
  const res = await fetch(url)
  assert.equal(res.status, 202)
  assert.equal(res.headers.get('etag'), '"kept"')
  assert.equal(await res.text(), 'as is')
})

test('a reply over the limit: 500 WAFER_ERR_RESPONSE_TOO_LARGE, the route\'s headers dropped', async (t) => {
  const url = await serve(t, { body: true, limit: 10, phase: () => { throw new Error('never called') } }, (_req, res) => {
    res.setHeader('x-route', '1')
    res.write('0123456789')
    res.write('overflow')
    res.end('more')
  })
  const res = await fetch(url)
  assert.equal(res.status, 500)
  assert.equal(res.headers.get('x-route'), null)
  assert.deepEqual(await res.json(), {
    statusCode: 500,
    code: 'WAFER_ERR_RESPONSE_TOO_LARGE',
    error: 'Internal Server Error',
    message: 'The response body exceeds the 10 bytes that response-body filters may read (responseBodyLimit)'
  })
})

test('an invalid status still throws to the route, synchronously, as Node.js does', async (t) => {
  let thrown: unknown
  const url = await serve(t, { phase: () => {} }, (_req, res) => {
    try {
      res.writeHead(42)
    } catch (err) {
      thrown = err
    }
    res.end('ok')
  })
  assert.equal(await (await fetch(url)).text(), 'ok')
  assert.equal((thrown as { code?: string }).code, 'ERR_HTTP_INVALID_STATUS_CODE')
})

test('a fault in the response phase itself is a 500 WAFER_ERR_INTERNAL, not a hung request', async (t) => {
  const url = await serve(t, { phase: async () => { throw new Error('bug') } }, (_req, res) => { res.end('route') })
  const res = await fetch(url)
  assert.equal(res.status, 500)
  assert.equal((await res.json() as { code: string }).code, 'WAFER_ERR_INTERNAL')
})

test('nothing passed with a response phase: the reply is not touched', async (t) => {
  let called = false
  const chain = { filters: [{ hasResponsePhase: true, needs: { responseBody: true } }], responsePhaseFor: (reached: number) => reached === 0 ? 'none' : 'body', runResponse: () => { called = true } } as unknown as Chain
  const server = createServer((req, res) => {
    const ex = new Exchange({ id: 'r', method: 'GET', url: '/', headers: req.headers, remoteAddress: '', log: silent })
    ex.reached = 0
    captureResponse(res, chain, ex, 1)
    res.end('longer than the limit')
  })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  t.after(() => { server.close(); server.closeAllConnections() })
  const res = await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}`)
  assert.equal(await res.text(), 'longer than the limit')
  assert.equal(called, false)
})
