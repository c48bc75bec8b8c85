// Proxy-Wasm callbacks outside a request's own (docs/proxy-wasm.md: "Pause and resume", "HTTP
// calls", "Timers", "Shared queues") through both adapters over real sockets: unmodified filters
// built with the published AssemblyScript SDK (proxy-sdk-callout, -ticks, -queue) that pause a
// request and resume or answer it from an HTTP call's answer, a tick or a queue; and a hostile
// WAT guest (bad pointers to every new host call, a pause nothing resumes, a trap in a tick),
// whose failures are read back from a real pino logger's JSON lines.
import assert from 'node:assert/strict'
import { once } from 'node:events'
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { test, type TestContext } from 'node:test'
import type { WaferDefinition } from '@wafer/core'
import { fixture, until, type LogLine } from '../support/index.ts'
import { adapters, failure, runApp, type Echo } from '../support/adapter-apps.ts'
import { startGateway } from '../support/proxy-harness.ts'

interface AuthServer {
  url: string
  seen: Array<{ url: string, headers: IncomingHttpHeaders }>
  /** Requests to /hang whose connection the caller closed. */
  hungUp: number
}

/** The upstream the callout filter asks: user ann is allowed (200), anyone else denied (403); /hang never answers; /config is 200 "cfg-v1". */
async function authServer (t: TestContext): Promise<AuthServer> {
  const seen: AuthServer['seen'] = []
  const auth = { url: '', seen, hungUp: 0 }
  const server: Server = createServer((req, res) => {
    seen.push({ url: req.url ?? '', headers: req.headers })
    if (req.url === '/hang/check?user=ann') {
      res.on('close', () => { auth.hungUp++ })
      return
    }
    if (req.url === '/config') { res.end('cfg-v1'); return }
    const allowed = req.url === '/check?user=ann'
    res.writeHead(allowed ? 200 : 403, { 'x-auth-by': 'upstream', 'content-type': 'text/plain' })
    res.end(allowed ? 'ok:ann' : 'no')
  })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  t.after(() => { server.closeAllConnections(); server.close() })
  auth.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  return auth
}

/** A port nothing listens on: a callout there is refused. */
async function closedPort (): Promise<string> {
  const server = createServer()
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  const { port } = server.address() as AddressInfo
  await new Promise((resolve) => server.close(resolve))
  return `http://127.0.0.1:${port}`
}

const HOSTILE_POINTERS: ReadonlyArray<[string, string]> = [
  ['a', 'proxy_http_call'], ['b', 'proxy_http_call'], ['c', 'proxy_http_call'],
  ['d', 'proxy_register_shared_queue'], ['e', 'proxy_register_shared_queue'], ['f', 'proxy_resolve_shared_queue'],
  ['g', 'proxy_enqueue_shared_queue'], ['h', 'proxy_dequeue_shared_queue']
]

/** `until` for a check that needs a request: polls the async `check` until it is true. */
async function eventually (what: string, check: () => Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!await check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 10))
  }
}

for (const [adapter, make] of adapters) {
  test(`${adapter}: an HTTP callout that grants lets the request through with what the upstream said; one that denies answers 403; the route is not reached`, async (t) => {
    const auth = await authServer(t)
    const app = await runApp(t, make, {
      filters: { auth: { module: fixture('proxy-sdk-callout'), proxyWasm: { upstreams: { auth: auth.url } } } },
      routes: [{ path: '/echo', chain: ['auth'] }]
    })
    const granted = await fetch(`${app.url}/echo`, { headers: { 'x-user': 'ann' } })
    assert.equal(granted.status, 200)
    const echo = await granted.json() as Echo
    assert.deepEqual([echo.headers['x-auth'], echo.headers['x-auth-by']], ['ok:ann', 'upstream'], 'the answer\'s body and headers, added by the callback')
    const [context, own] = (granted.headers.get('x-callout-context') ?? '').split('/')
    assert.ok(context !== '0' && context === own, `the SDK called back the context object that made the call: ${context}/${own}`)
    assert.equal(auth.seen[0]?.url, '/check?user=ann')
    assert.deepEqual([auth.seen[0]?.headers.host, auth.seen[0]?.headers['x-from']], ['auth.local', 'wafer'], ':authority is the Host; other headers as given')

    const denied = await fetch(`${app.url}/echo`, { headers: { 'x-user': 'bob' } })
    assert.equal(denied.status, 403)
    assert.equal(denied.headers.get('x-callout-status'), '403')
    assert.equal(await denied.text(), 'denied: no')
    assert.equal(auth.seen.length, 2)
    const pool = app.runtime.filter('auth')?.status().pool
    assert.equal(pool?.busy, 0, 'the instance went back to the pool after each request')
  })

  test(`${adapter}: an HTTP call is the root context's (as in the cpp-host): its answer comes to the root context with the call's token; making the request's context effective resumes it`, async (t) => {
    const auth = await authServer(t)
    const app = await runApp(t, make, {
      filters: { k: { module: fixture('proxy-async-hostile'), config: 'k', pool: { min: 1, max: 1 }, proxyWasm: { upstreams: { up: auth.url } } } },
      routes: [{ path: '/k', chain: ['k'] }]
    })
    const { lines } = app
    for (const expected of ['answer context 1 token 1', 'answer context 1 token 2']) {
      const res = await fetch(`${app.url}/k`)
      assert.equal(res.status, 200, 'continued from the answer')
      const said = lines.filter((l) => l.filter === 'k' && /^(answer|effective)/.test(l.msg)).map((l) => l.msg)
      assert.deepEqual(said.slice(-2), [expected, 'effective 0'], 'the answer, then proxy_set_effective_context(request): OK')
    }
    assert.deepEqual([auth.seen[0]?.url, auth.seen[0]?.headers.host], ['/k', 'a.local'])
  })

  test(`${adapter}: a callout that gets no answer (timeout, refused) calls back with no headers and no body, logged with the filter's name; an unknown upstream is BAD_ARGUMENT`, async (t) => {
    const auth = await authServer(t)
    const app = await runApp(t, make, {
      filters: {
        slow: { module: fixture('proxy-sdk-callout'), proxyWasm: { upstreams: { auth: `${auth.url}/hang` } } },
        refused: { module: fixture('proxy-sdk-callout'), proxyWasm: { upstreams: { auth: await closedPort() } } },
        unknown: { module: fixture('proxy-sdk-callout'), config: 'nope', proxyWasm: { upstreams: { auth: auth.url } } }
      },
      routes: [{ path: '/slow', chain: ['slow'] }, { path: '/refused', chain: ['refused'] }, { path: '/unknown', chain: ['unknown'] }]
    })
    const { lines } = app
    const started = performance.now()
    const slow = await fetch(`${app.url}/slow`, { headers: { 'x-user': 'ann', 'x-timeout': '150' } })
    assert.equal(slow.status, 504)
    assert.equal(await slow.text(), 'auth unavailable', 'the filter\'s own answer to a failed call')
    assert.ok(performance.now() - started >= 140, 'after the call\'s timeout')
    assert.equal(auth.seen.at(-1)?.url, '/hang/check?user=ann', 'the base URL\'s path prefixes :path')
    const timedOut = lines.find((l) => l.filter === 'slow' && l.level === 40 && (l.err as { code?: string } | undefined)?.code === 'WAFER_ERR_HTTP_CALL_FAILED')
    assert.match(timedOut?.msg ?? '', /^Filter "slow": HTTP call 1 to "auth" \(http:\/\/127\.0\.0\.1:\d+\) failed: no response within 150 ms \(timeout\)/)

    const refused = await fetch(`${app.url}/refused`, { headers: { 'x-user': 'ann' } })
    assert.equal(refused.status, 504)
    assert.ok(lines.some((l) => l.filter === 'refused' && l.level === 40 && /ECONNREFUSED/.test(l.msg)), 'the refusal is logged')

    const unknown = await fetch(`${app.url}/unknown`, { headers: { 'x-user': 'ann' } })
    assert.equal(unknown.status, 500)
    assert.equal(await unknown.text(), 'http_call returned 2', 'BAD_ARGUMENT, and the filter answered')
    assert.ok(lines.some((l) => l.filter === 'unknown' && l.level === 40 && /upstream "nope", which is not in its proxyWasm.upstreams/.test(l.msg)))
  })

  test(`${adapter}: ticks reach the root context on every period; a request paused until the next tick is resumed from proxy_on_tick`, async (t) => {
    const app = await runApp(t, make, {
      filters: { ticks: { module: fixture('proxy-sdk-ticks'), config: '10', pool: { min: 1, max: 1 } } },
      routes: [{ path: '/echo', chain: ['ticks'] }]
    })
    const paused = await fetch(`${app.url}/echo`, { headers: { 'x-wait-tick': 'yes' } })
    assert.equal(paused.status, 200)
    const resumedAt = Number((await paused.json() as Echo).headers['x-resumed-at-tick'])
    assert.ok(resumedAt >= 1, `resumed by tick ${resumedAt}, which added a request header through the paused context`)
    assert.ok(Number(paused.headers.get('x-ticks')) >= resumedAt)
    await eventually('more ticks', async () => Number((await fetch(`${app.url}/echo`)).headers.get('x-ticks')) >= resumedAt + 3)

    const response = await fetch(`${app.url}/echo`, { headers: { 'x-wait-tick': 'response' } })
    assert.equal(response.status, 200)
    assert.ok(Number(response.headers.get('x-response-resumed-at-tick')) > resumedAt, 'a paused response phase, resumed by continue_response from a tick, with the header the tick added')
    assert.equal((await response.json() as Echo).url, '/echo')
  })

  test(`${adapter}: an HTTP call made from the root context (in a tick) is answered on the root context`, async (t) => {
    const auth = await authServer(t)
    const app = await runApp(t, make, {
      filters: { auth: { module: fixture('proxy-sdk-callout'), config: 'tick:auth', pool: { min: 1, max: 1 }, proxyWasm: { upstreams: { auth: auth.url } } } },
      routes: [{ path: '/echo', chain: ['auth'] }]
    })
    await eventually('the root context fetched', async () => (await fetch(`${app.url}/echo`, { headers: { 'x-user': 'ann' } })).headers.get('x-root-fetch') === 'cfg-v1 on 1')
    assert.equal(auth.seen.filter((s) => s.url === '/config').length, 1, JSON.stringify(auth.seen.map((s) => s.url)))
  })

  test(`${adapter}: a queue between two filters: one enqueues in its request phase, the other's root context gets proxy_on_queue_ready and dequeues; a request paused for the queue resumes with the message`, async (t) => {
    const app = await runApp(t, make, {
      filters: {
        sender: { module: fixture('proxy-sdk-queue'), config: 'sender' },
        receiver: { module: fixture('proxy-sdk-queue'), config: 'receiver', pool: { min: 1, max: 1 } }
      },
      routes: [{ path: '/send', chain: ['sender'] }, { path: '/recv', chain: ['receiver'] }]
    })
    const sent = await fetch(`${app.url}/send`, { headers: { 'x-event': 'e1' } })
    assert.equal((await sent.json() as Echo).headers['x-enqueued'], '0/0', 'resolved and enqueued: OK, OK')
    await eventually('the receiver dequeued e1', async () => (await fetch(`${app.url}/recv`)).headers.get('x-received') === '1 e1')

    const waiting = fetch(`${app.url}/recv`, { headers: { 'x-wait-queue': 'yes' } })
    await until('the receiving request is paused', () => app.runtime.filter('receiver')?.status().pool.busy === 1)
    await fetch(`${app.url}/send`, { headers: { 'x-event': 'e2' } })
    const resumed = await waiting
    assert.equal(resumed.status, 200)
    assert.equal((await resumed.json() as Echo).headers['x-queued'], 'e2')
    assert.equal(resumed.headers.get('x-received'), '2 e2')
  })

  test(`${adapter}: bad pointers to every HTTP-call, queue and timer host call fail the request with WAFER_ERR_ABI_BAD_POINTER naming the call`, async (t) => {
    const filters: WaferDefinition['filters'] = {}
    for (const [c] of HOSTILE_POINTERS) filters[`ptr-${c}`] = { module: fixture('proxy-async-hostile'), config: c }
    const app = await runApp(t, make, { filters, routes: HOSTILE_POINTERS.map(([c]) => ({ path: `/ptr/${c}`, chain: [`ptr-${c}`] })) })
    const { lines } = app
    for (const [c, call] of HOSTILE_POINTERS) {
      const res = await fetch(`${app.url}/ptr/${c}`)
      const body = await res.json() as { code: string, filter: string }
      assert.deepEqual([res.status, body.code, body.filter], [503, 'WAFER_ERR_ABI_BAD_POINTER', `ptr-${c}`], `case ${c} (${call})`)
      const err = failure(lines, `ptr-${c}`)
      assert.ok(err?.message.includes(call), `case ${c}: ${err?.message}`)
    }
  })

  test(`${adapter}: a pause that something could resume but nothing does ends at limits.timeoutMs with WAFER_ERR_FILTER_DEADLINE, and the instance is replaced`, async (t) => {
    const app = await runApp(t, make, {
      filters: { wait: { module: fixture('proxy-async-hostile'), config: 'w', limits: { timeoutMs: 150 } } },
      routes: [{ path: '/wait', chain: ['wait'] }]
    })
    const { lines } = app
    const res = await fetch(`${app.url}/wait`)
    assert.deepEqual([res.status, (await res.json() as { code: string }).code], [503, 'WAFER_ERR_FILTER_DEADLINE'])
    assert.match(failure(lines, 'wait')?.message ?? '', /within 150 ms of its first wait; it was waiting for a resume after proxy_on_request_headers \(action 1\) paused/)
    await until('the instance discarded', () => app.runtime.filter('wait')?.status().pool.discarded === 1)
  })

  test(`${adapter}: a request whose client goes away while paused ends cleanly: proxy_on_log and proxy_on_delete run, the instance goes back, nothing is logged as a failure`, async (t) => {
    const app = await runApp(t, make, {
      filters: { wait: { module: fixture('proxy-async-hostile'), config: 'w', pool: { min: 1, max: 1 } } },
      routes: [{ path: '/wait', chain: ['wait'] }]
    })
    const { lines } = app
    const controller = new AbortController()
    const request = fetch(`${app.url}/wait`, { signal: controller.signal }).catch((err: unknown) => err)
    await until('the request is paused', () => app.runtime.filter('wait')?.status().pool.busy === 1)
    controller.abort()
    await request
    await until('proxy_on_delete ran', () => lines.some((l) => l.filter === 'wait' && l.msg.includes('on_delete')))
    assert.ok(lines.some((l) => l.filter === 'wait' && l.msg.includes('on_log')))
    await until('the instance is back in the pool', () => app.runtime.filter('wait')?.status().pool.busy === 0)
    const status = app.runtime.filter('wait')?.status()
    assert.deepEqual([status?.pool.discarded, status?.failures], [0, 0], 'healthy, and not a failure of the filter')
    assert.equal(lines.filter((l) => l.level >= 50).length, 0, `no error logged: ${JSON.stringify(lines.filter((l) => l.level >= 50))}`)
  })

  test(`${adapter}: a request whose client goes away while it waits for an HTTP call ends at once; the call's late answer comes to the root context and reaches neither that request nor the next one`, async (t) => {
    const auth = await authServer(t)
    const app = await runApp(t, make, {
      filters: { slow: { module: fixture('proxy-sdk-callout'), pool: { min: 1, max: 1 }, proxyWasm: { upstreams: { auth: `${auth.url}/hang` } } } },
      routes: [{ path: '/slow', chain: ['slow'] }]
    })
    const { lines } = app
    const controller = new AbortController()
    const gone = fetch(`${app.url}/slow`, { headers: { 'x-user': 'ann', 'x-timeout': '300' }, signal: controller.signal }).catch((err: unknown) => err)
    await until('the call reached the upstream', () => auth.seen.length === 1)
    controller.abort()
    await gone
    await until('the instance is back in the pool, before the call is answered', () => app.runtime.filter('slow')?.status().pool.busy === 0)
    const started = performance.now()
    const next = await fetch(`${app.url}/slow`, { headers: { 'x-user': 'ann', 'x-timeout': '700' } })
    assert.equal(next.status, 504)
    assert.ok(performance.now() - started >= 650, 'the next request on the instance was answered by its own call, not by the first one\'s late answer (at about 300 ms)')
    const failed = lines.filter((l) => l.filter === 'slow' && (l.err as { code?: string } | undefined)?.code === 'WAFER_ERR_HTTP_CALL_FAILED')
    assert.deepEqual(failed.map((l) => /HTTP call (\d+)/.exec(l.msg)?.[1]), ['1', '2'], 'both calls ran to their own timeouts')
    assert.equal(lines.filter((l) => l.filter === 'slow' && l.level >= 50).length, 0)
  })

  test(`${adapter}: a trap in proxy_on_tick is logged with the filter's name and code; the instance is discarded and replaced while requests keep working`, async (t) => {
    const app = await runApp(t, make, {
      filters: { tick: { module: fixture('proxy-async-hostile'), config: 't', pool: { min: 1, max: 1 } } },
      routes: [{ path: '/tick', chain: ['tick'] }]
    })
    const { lines } = app
    await until('a tick trapped', () => lines.some((l) => l.filter === 'tick' && l.level === 50))
    const line = lines.find((l) => l.filter === 'tick' && l.level === 50) as LogLine
    assert.equal(line.msg, 'filter "tick" failed in proxy_on_tick, outside any request; its instance is discarded and replaced')
    assert.equal((line.err as { code: string }).code, 'WAFER_ERR_FILTER_TRAP')
    assert.match((line.err as { message: string }).message, /Filter "tick" trapped in proxy_on_tick: .*unreachable/)
    await until('the instance replaced', () => {
      const pool = app.runtime.filter('tick')?.status().pool
      return pool !== undefined && pool.discarded >= 1 && pool.created >= 2
    })
    const res = await fetch(`${app.url}/tick`)
    assert.equal(res.status, 200, 'the pool never hands out the broken instance')
  })
}

test('a tick outside any request cannot send a local response (BAD_ARGUMENT); ticks stop when the filter is replaced by a reload and when the runtime closes', async (t) => {
  const app = await adapters[0][1]({
    filters: { tick: { module: fixture('proxy-async-hostile'), config: 'l' }, send: { module: fixture('proxy-async-hostile'), config: 's' } },
    routes: [{ path: '/tick', chain: ['tick'] }]
  })
  const { lines } = app
  t.after(() => app.close())
  await until('tick status', () => lines.some((l) => l.filter === 'send' && l.msg === 'tick status 2'))
  const ticks = (): number => lines.filter((l) => l.filter === 'tick' && l.msg.endsWith('tick')).length
  await until('ticks', () => ticks() >= 3)
  const report = await app.runtime.reload({ filters: { tick: { module: fixture('proxy-async-hostile'), config: 'n' } }, drainTimeoutMs: 1000 })
  assert.equal(report.outcome, 'applied')
  await until('the old filter closed', () => app.runtime.status().draining.length === 0)
  const afterReload = ticks()
  await new Promise((resolve) => setTimeout(resolve, 60))
  assert.equal(ticks(), afterReload, 'no tick from the replaced filter\'s instances')

  assert.equal((await app.runtime.reload({ filters: { tick: { module: fixture('proxy-async-hostile'), config: 'l' } } })).outcome, 'applied')
  await until('ticks again', () => ticks() >= afterReload + 3)
  await app.close()
  const afterClose = ticks()
  await new Promise((resolve) => setTimeout(resolve, 60))
  assert.equal(ticks(), afterClose, 'no tick after the runtime closed')
})

test('gateway: an HTTP callout grants or denies a proxied request', async (t) => {
  const auth = await authServer(t)
  const upstream = createServer((req, res) => { res.end(JSON.stringify({ url: req.url, auth: req.headers['x-auth'] })) })
  upstream.listen(0, '127.0.0.1')
  await once(upstream, 'listening')
  t.after(() => { upstream.closeAllConnections(); upstream.close() })
  const { port } = await startGateway(t, {
    filters: { auth: { module: fixture('proxy-sdk-callout'), proxyWasm: { upstreams: { auth: auth.url } } } },
    routes: [{ match: { path: '/api/' }, chain: ['auth'], upstream: `http://127.0.0.1:${(upstream.address() as AddressInfo).port}` }]
  })
  const granted = await fetch(`http://127.0.0.1:${port}/api/x`, { headers: { 'x-user': 'ann' } })
  assert.equal(granted.status, 200)
  assert.deepEqual(await granted.json(), { url: '/api/x', auth: 'ok:ann' })
  const denied = await fetch(`http://127.0.0.1:${port}/api/x`, { headers: { 'x-user': 'eve' } })
  assert.equal(denied.status, 403)
  assert.equal(await denied.text(), 'denied: no')
})

test('gateway: a request paused until a tick is resumed and proxied; a queue between two filters', async (t) => {
  const upstream = createServer((req, res) => { res.end(JSON.stringify({ url: req.url, tick: req.headers['x-resumed-at-tick'], queued: req.headers['x-queued'] })) })
  upstream.listen(0, '127.0.0.1')
  await once(upstream, 'listening')
  t.after(() => { upstream.closeAllConnections(); upstream.close() })
  const to = `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`
  const { port, gateway } = await startGateway(t, {
    filters: {
      ticks: { module: fixture('proxy-sdk-ticks'), config: '10' },
      sender: { module: fixture('proxy-sdk-queue'), config: 'sender' },
      receiver: { module: fixture('proxy-sdk-queue'), config: 'receiver', pool: { min: 1, max: 1 } }
    },
    routes: [
      { match: { path: '/tick/' }, chain: ['ticks'], upstream: to },
      { match: { path: '/send/' }, chain: ['sender'], upstream: to },
      { match: { path: '/recv/' }, chain: ['receiver'], upstream: to }
    ]
  })
  const res = await fetch(`http://127.0.0.1:${port}/tick/x`, { headers: { 'x-wait-tick': 'yes' } })
  assert.equal(res.status, 200)
  const body = await res.json() as { url: string, tick: string }
  assert.equal(body.url, '/tick/x')
  assert.ok(Number(body.tick) >= 1)
  const waiting = fetch(`http://127.0.0.1:${port}/recv/x`, { headers: { 'x-wait-queue': 'yes' } })
  await until('the receiving request is paused', () => gateway.app.wafer.filter('receiver')?.status().pool.busy === 1)
  await fetch(`http://127.0.0.1:${port}/send/x`, { headers: { 'x-event': 'hello' } })
  const resumed = await waiting
  assert.equal((await resumed.json() as { queued: string }).queued, 'hello')
  assert.equal(resumed.headers.get('x-received'), '1 hello')
})
