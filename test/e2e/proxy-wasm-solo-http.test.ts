// Behaviour checks of issue 14 for filters built with @solo-io/proxy-runtime 0.1.8 (the second
// npm Proxy-Wasm SDK, AssemblyScript 0.14), through the Fastify plugin, the Express middleware
// and the gateway over real sockets: headers both ways, request and response bodies, and an
// HTTP callout that grants or denies while the request waits (test/fixtures/guests/
// proxy-solo-rewrite.ts, proxy-solo-callout.ts; docs/proxy-wasm.md "Building with
// @solo-io/proxy-runtime").
import assert from 'node:assert/strict'
import { once } from 'node:events'
import { createServer, type IncomingHttpHeaders } from 'node:http'
import type { AddressInfo } from 'node:net'
import { test, type TestContext } from 'node:test'
import { fixture } from '../support/index.ts'
import { recordingUpstream, startGateway } from '../support/proxy-harness.ts'
import { soloAdapters, type SoloEcho } from './proxy-wasm-solo-apps.ts'

const rewrite = (mode: string) => ({ module: fixture('proxy-solo-rewrite'), config: mode, proxyWasm: { rootId: 'solo_rewrite', requestBody: true, responseBody: true } })
const callout = (auth: string) => ({ module: fixture('proxy-solo-callout'), proxyWasm: { rootId: 'solo_callout', upstreams: { auth } } })

interface AuthServer {
  url: string
  seen: Array<{ url: string, headers: IncomingHttpHeaders }>
}

/** The upstream the callout asks: `/check?user=ann` is 200 `ok:ann` (after `delayMs`), anyone else 403 `no`. */
async function authServer (t: TestContext, delayMs = 0): Promise<AuthServer> {
  const seen: AuthServer['seen'] = []
  const server = createServer((req, res) => {
    seen.push({ url: req.url ?? '', headers: req.headers })
    const allowed = req.url === '/check?user=ann'
    setTimeout(() => {
      res.writeHead(allowed ? 200 : 403, { 'x-auth-by': 'upstream', 'content-type': 'text/plain' })
      res.end(allowed ? 'ok:ann' : 'no')
    }, delayMs)
  })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  t.after(() => { server.closeAllConnections(); server.close() })
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, seen }
}

for (const [adapter, start] of soloAdapters) {
  test(`${adapter}: a solo SDK filter adds, replaces and removes request and response headers, replaces the request body, and replaces or appends to the response body`, async (t) => {
    const app = await start(t, { filters: { rewrite: rewrite('replace') }, routes: { '/r': ['rewrite'] } })
    const res = await fetch(`${app.url}/r/x`, {
      method: 'POST',
      headers: { 'content-type': 'text/plain', 'x-replace-me': 'original', 'x-remove-me': 'gone', 'x-keep': 'kept' },
      body: 'hello proxy'
    })
    assert.equal(res.status, 200)
    assert.equal(res.headers.get('x-solo-res'), 'yes', 'a response header added')
    assert.equal(res.headers.get('x-route-tag'), 'solo', 'a response header replaced')
    assert.equal(res.headers.get('x-route-drop'), null, 'a response header removed')
    assert.equal(res.headers.get('content-type'), 'text/plain')
    const text = await res.text()
    assert.equal(text, 'replaced by solo', 'the response body replaced')
    assert.equal(res.headers.get('content-length'), String(text.length), 'the length follows the new body')

    // The SDK aborts when remove returns anything but OK: removing a header that is not there is OK, as on Envoy.
    const plain = await fetch(`${app.url}/r/echo`, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: 'hi' })
    assert.equal(plain.status, 200)
    assert.equal(await plain.text(), 'replaced by solo')
    // What the route saw is only readable through a filter that leaves the response body alone.
    const seeing = await start(t, { filters: { rewrite: rewrite('append') }, routes: { '/r': ['rewrite'] } })
    const seen = await fetch(`${seeing.url}/r/x`, {
      method: 'POST',
      headers: { 'content-type': 'text/plain', 'x-replace-me': 'original', 'x-remove-me': 'gone', 'x-keep': 'kept' },
      body: 'hello proxy'
    })
    assert.equal(seen.status, 200)
    const appended = await seen.text()
    assert.ok(appended.endsWith(' +solo'), `the response body appended to: ${appended}`)
    assert.equal(seen.headers.get('content-length'), String(Buffer.byteLength(appended)))
    const echo = JSON.parse(appended.slice(0, -' +solo'.length)) as SoloEcho
    assert.equal(echo.headers['x-solo-added'], '1', 'a request header added')
    assert.equal(echo.headers['x-replace-me'], 'replaced', 'a request header replaced')
    assert.equal(echo.headers['x-remove-me'], undefined, 'a request header removed')
    assert.equal(echo.headers['x-keep'], 'kept')
    assert.equal(echo.body, 'solo[hello proxy]', 'the route read the body the filter wrote')
    assert.equal(echo.headers['x-solo-request-body-length'], '11', 'the filter read the body the client sent')
  })

  test(`${adapter}: a solo SDK filter's HTTP callout grants (the request goes on with the answer) or denies (a local 403); the request waits for the answer`, async (t) => {
    const auth = await authServer(t, 50)
    const app = await start(t, { filters: { auth: callout(auth.url) }, routes: { '/api': ['auth'] } })
    const granted = await fetch(`${app.url}/api/x`, { headers: { 'x-user': 'ann' } })
    assert.equal(granted.status, 200)
    const echo = await granted.json() as SoloEcho
    assert.equal(echo.headers['x-auth'], 'ok:ann', 'the answer\'s body, added while the request waited')
    assert.equal(echo.headers['x-auth-by'], 'upstream', 'a header of the answer')
    assert.equal(auth.seen[0]?.url, '/check?user=ann')
    assert.equal(auth.seen[0]?.headers.host, 'auth.local', 'the callout\'s :authority')

    const denied = await fetch(`${app.url}/api/x`, { headers: { 'x-user': 'eve' } })
    assert.equal(denied.status, 403, JSON.stringify(app.lines.filter((l) => l.level >= 40)))
    assert.equal(await denied.text(), 'denied: no')
    assert.equal(denied.headers.get('x-route-tag'), null, 'the route never ran')
    assert.equal(auth.seen.length, 2)
    assert.ok(app.lines.some((l) => l.filter === 'auth' && /^solo callout: answer 403 for context \d+$/.test(l.msg)), 'the SDK ran the callback for the request\'s context')
  })
}

test('fastify: one instance of each solo SDK filter serves request after request (the headers filter\'s response phase once freed a string twice and trapped on every second request)', async (t) => {
  const app = await soloAdapters[0][1](t, {
    filters: {
      headers: { module: fixture('proxy-solo-headers'), config: 'hello', pool: { min: 1, max: 1 }, proxyWasm: { rootId: 'solo_headers' } },
      auth: { ...callout((await authServer(t)).url), pool: { min: 1, max: 1 } },
      rewrite: { ...rewrite('append'), pool: { min: 1, max: 1 } }
    },
    routes: { '/h': ['headers'], '/api': ['auth'], '/r': ['rewrite'] }
  })
  for (let i = 0; i < 4; i++) {
    const res = await fetch(`${app.url}/h/x`)
    assert.equal(res.status, 200, `request ${i + 1}`)
    assert.equal(res.headers.get('x-solo-response'), 'hello')
    const api = await fetch(`${app.url}/api/x`, { headers: { 'x-user': i % 2 === 0 ? 'ann' : 'eve' } })
    assert.equal(api.status, i % 2 === 0 ? 200 : 403, `callout ${i + 1}`)
    const rw = await fetch(`${app.url}/r/x`, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: `body ${i}` })
    assert.equal((JSON.parse((await rw.text()).slice(0, -' +solo'.length)) as SoloEcho).body, `solo[body ${i}]`, `rewrite ${i + 1}`)
  }
  assert.deepEqual(app.lines.filter((l) => l.level >= 50), [])
})

test('express: a solo SDK callout that gets no answer (the upstream refuses) denies; a call to an upstream not in proxyWasm.upstreams is refused at once', async (t) => {
  const closed = createServer()
  closed.listen(0, '127.0.0.1')
  await once(closed, 'listening')
  const port = (closed.address() as AddressInfo).port
  await new Promise((resolve) => closed.close(resolve))
  const app = await soloAdapters[1][1](t, {
    filters: { refused: callout(`http://127.0.0.1:${port}`), unknown: { ...callout('http://127.0.0.1:1'), config: 'nope' } },
    routes: { '/refused': ['refused'], '/unknown': ['unknown'] }
  })
  const refused = await fetch(`${app.url}/refused/x`, { headers: { 'x-user': 'ann' } })
  assert.equal(refused.status, 403)
  assert.equal(await refused.text(), 'denied: ')
  assert.ok(app.lines.some((l) => l.filter === 'refused' && /^solo callout: answer none for context \d+$/.test(l.msg)), 'the callback ran with no answer')
  const unknown = await fetch(`${app.url}/unknown/x`, { headers: { 'x-user': 'ann' } })
  assert.equal(unknown.status, 500)
  assert.equal(await unknown.text(), 'http_call returned 2', 'BAD_ARGUMENT')
})

test('gateway: a solo SDK callout grants or denies a proxied request; a solo SDK filter rewrites headers and bodies both ways in front of a real upstream', async (t) => {
  const auth = await authServer(t)
  const up = await recordingUpstream(t, { 'x-route-tag': 'upstream', 'x-route-drop': '1' })
  const gw = await startGateway(t, {
    filters: { auth: callout(auth.url), rewrite: rewrite('append') },
    routes: [
      { match: { path: '/api/' }, chain: ['auth'], upstream: up.url },
      { match: { path: '/rw/' }, chain: ['rewrite'], upstream: up.url }
    ]
  })
  const granted = await fetch(`http://127.0.0.1:${gw.port}/api/x`, { headers: { 'x-user': 'ann' } })
  assert.equal(granted.status, 200)
  assert.equal(await granted.text(), 'upstream')
  assert.equal(up.received[0]?.headers['x-auth'], 'ok:ann')
  const denied = await fetch(`http://127.0.0.1:${gw.port}/api/x`, { headers: { 'x-user': 'eve' } })
  assert.equal(denied.status, 403)
  assert.equal(await denied.text(), 'denied: no')
  assert.equal(up.received.length, 1, 'the denied request never reached the upstream')

  const res = await fetch(`http://127.0.0.1:${gw.port}/rw/x`, { method: 'POST', headers: { 'x-replace-me': 'a', 'x-remove-me': 'b' }, body: 'abc' })
  assert.equal(res.status, 200)
  assert.equal(await res.text(), 'upstream +solo')
  assert.equal(res.headers.get('x-route-tag'), 'solo')
  assert.equal(res.headers.get('x-route-drop'), null)
  assert.equal(res.headers.get('x-solo-res'), 'yes')
  const sent = up.received[1]
  assert.equal(sent?.body.toString(), 'solo[abc]')
  assert.equal(sent?.headers['x-replace-me'], 'replaced')
  assert.equal(sent?.headers['x-remove-me'], undefined)
  assert.equal(sent?.headers['x-solo-added'], '1')
})
