// Filters built with the second published AssemblyScript Proxy-Wasm SDK, @solo-io/proxy-runtime
// 0.1.8 on AssemblyScript 0.14 (test/fixtures/guests/proxy-solo-*.ts, compiled from source by
// scripts/build-guests.mjs), through the Fastify plugin, the Express middleware and the gateway
// over real sockets: so the host is checked against that SDK's assumptions too.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { createWafer } from '@wafer/core'
import { captureLogger, fixture } from '../support/index.ts'
import { adapters, runApp, type Echo } from '../support/adapter-apps.ts'
import { recordingUpstream, startGateway } from '../support/proxy-harness.ts'

/** The two solo filters; the SDK finds each root context by the `plugin_root_id` property. */
const filters = (config = 'hello') => ({
  deny: { module: fixture('proxy-solo-deny'), proxyWasm: { rootId: 'solo_deny' } },
  headers: { module: fixture('proxy-solo-headers'), config, proxyWasm: { rootId: 'solo_headers' } }
})

for (const [adapter, make] of adapters) {
  test(`${adapter}: a solo SDK filter adds a request and a response header from its plugin configuration`, async (t) => {
    const app = await runApp(t, make, { filters: filters(), chain: ['deny', 'headers'] })
    const res = await fetch(`${app.url}/echo`, { headers: { 'x-user': 'alice' } })
    assert.equal(res.status, 200)
    const echo = await res.json() as Echo
    assert.equal(echo.headers['x-solo-request'], 'hello', 'the plugin configuration, on the request')
    assert.equal(echo.headers['x-solo-user'], 'alice')
    assert.equal(res.headers.get('x-solo-response'), 'hello')
    assert.equal(res.headers.get('x-solo-allowed'), 'yes', 'the deny filter let it through and saw the response')
    assert.equal(app.runtime.filter('headers')?.status().abi, 'proxy-wasm/0.2.0')
    assert.ok(app.lines.some((l) => l.filter === 'headers' && l.msg === 'solo headers: configured with "hello"'), 'the root context logged its configuration')
    assert.ok(app.lines.some((l) => l.filter === 'headers' && l.msg === 'solo headers: on_log /echo'), 'proxy_on_log ran with the request headers readable')
  })

  test(`${adapter}: a solo SDK filter denies with a local response; the route and later filters never see the request`, async (t) => {
    const app = await runApp(t, make, { filters: { ...filters(), deny: { ...filters().deny, config: 'x-block' } }, chain: ['deny', 'headers'] })
    const res = await fetch(`${app.url}/echo`, { headers: { 'x-block': '1' } })
    assert.equal(res.status, 403)
    assert.equal(await res.text(), 'denied by solo: x-block')
    assert.equal(res.headers.get('x-denied-by'), 'solo-deny')
    assert.equal(res.headers.get('content-type'), 'text/plain; charset=utf-8')
    const allowed = await fetch(`${app.url}/echo`, { headers: { 'x-solo-deny': '1' } })
    assert.equal(allowed.status, 200, 'the configured header, not the default one, denies')
    assert.equal((await allowed.json() as Echo).headers['x-solo-request'], 'hello')
  })
}

test('solo SDK: an empty plugin configuration, a rejected one, and a missing rootId', async (t) => {
  const app = await runApp(t, adapters[0][1], { filters: { headers: { ...filters().headers, config: '' } }, chain: ['headers'] })
  const res = await fetch(`${app.url}/echo`)
  assert.equal(res.headers.get('x-solo-response'), 'none')
  assert.equal((await res.json() as Echo).headers['x-solo-request'], '')

  await assert.rejects(createWafer({ logger: false, filters: filters('bad: no hosts') }), (err: Error & { code: string }) => {
    assert.equal(err.code, 'WAFER_ERR_FILTER_CONFIG')
    assert.ok(err.message.includes('solo headers: configuration rejected: bad: no hosts'), err.message)
    return true
  })

  // The SDK looks its root context up by plugin_root_id and aborts (proc_exit) when none matches.
  const { logger, lines } = captureLogger('info')
  await assert.rejects(createWafer({ logger, filters: { headers: { module: fixture('proxy-solo-headers') } } }), (err: Error & { code: string }) => {
    assert.equal(err.code, 'WAFER_ERR_FILTER_TRAP')
    assert.ok(err.message.includes('proxy_on_context_create'), err.message)
    return true
  })
  assert.ok(lines.some((l) => l.filter === 'headers' && typeof l.msg === 'string' && l.msg.startsWith('Missing root context factory for root id: ')), JSON.stringify(lines.map((l) => l.msg)))
})

test('gateway: solo SDK filters on a route, in front of a real upstream', async (t) => {
  const up = await recordingUpstream(t)
  const gw = await startGateway(t, {
    filters: filters('gw'),
    routes: [{ match: { path: '/' }, chain: ['deny', 'headers'], upstream: up.url }]
  })
  const res = await fetch(`http://127.0.0.1:${gw.port}/items`, { headers: { 'x-user': 'bob' } })
  assert.equal(res.status, 200)
  assert.equal(await res.text(), 'upstream')
  assert.equal(res.headers.get('x-solo-response'), 'gw')
  assert.equal(res.headers.get('x-solo-allowed'), 'yes')
  assert.equal(up.received[0]?.headers['x-solo-request'], 'gw')
  assert.equal(up.received[0]?.headers['x-solo-user'], 'bob')

  const denied = await fetch(`http://127.0.0.1:${gw.port}/items`, { headers: { 'x-solo-deny': 'yes' } })
  assert.equal(denied.status, 403)
  assert.equal(await denied.text(), 'denied by solo: x-solo-deny')
  assert.equal(up.received.length, 1, 'the denied request never reached the upstream')
})
