// End to end over real sockets: a real upstream, the gateway in front of it.
import assert from 'node:assert/strict'
import { createServer, request as httpRequest, type Server } from 'node:http'
import { mkdtemp, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { AddressInfo } from 'node:net'
import { test, type TestContext } from 'node:test'
import { Gateway } from '../src/index.ts'
import { exampleFilter, fixture, silent } from '../../../test/support/index.ts'

interface Upstream { url: string, server: Server, received: Array<{ method: string, path: string, headers: Record<string, unknown>, body: string }> }

/** An upstream that echoes what it received; `/slow` waits 2 s before answering. */
async function upstream (t: TestContext): Promise<Upstream> {
  const received: Upstream['received'] = []
  const server = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      const seen = { method: req.method ?? '', path: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks).toString() }
      received.push(seen)
      const answer = (): void => {
        res.writeHead(200, { 'content-type': 'application/json', 'x-upstream': 'yes' })
        res.end(JSON.stringify(seen))
      }
      if (req.url?.includes('/slow') === true) setTimeout(answer, 2000)
      else answer()
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  t.after(() => { server.closeAllConnections(); server.close() })
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server, received }
}

function config (up: string, extra: { server?: object, routes?: object[] } = {}) {
  return {
    server: { logger: { level: 'silent' }, ...extra.server },
    admin: { port: 0 },
    filters: {
      auth: { module: exampleFilter('auth'), config: { mode: 'api-key', keys: ['k1'], subjects: ['alice'] } },
      rewrite: { module: exampleFilter('rewrite'), config: { prefix: { from: '/api/', to: '/v2/' }, responseHeaders: { set: { 'x-filtered': 'yes' } } } },
      limit: { module: exampleFilter('rate-limit'), config: { limit: 2, windowMs: 60000, key: 'header:x-auth-subject' } }
    },
    chains: { api: ['auth', 'rewrite', 'limit'] },
    routes: extra.routes ?? [
      { match: { path: '/api/' }, chain: 'api', upstream: up, timeoutMs: 500 },
      { match: { path: '/open/' }, upstream: up },
      { match: { path: '/health', type: 'exact', methods: ['GET'] }, respond: { status: 200, body: 'ok' } }
    ]
  }
}

async function gateway (t: TestContext, cfg: object): Promise<{ gw: Gateway, url: string, adminUrl: string }> {
  const gw = await Gateway.create({ config: cfg as never, port: 0, logger: silent })
  t.after(() => gw.close())
  const { url, adminUrl } = await gw.listen()
  return { gw, url, adminUrl: adminUrl as string }
}

test('routes: a chain per route, proxied with the rewritten path, response filters on the upstream reply', async (t) => {
  const up = await upstream(t)
  const { url } = await gateway(t, config(up.url))

  const denied = await fetch(`${url}/api/items`)
  assert.equal(denied.status, 401)
  assert.equal(up.received.length, 0, 'a request the chain refused never reaches the upstream')

  const ok = await fetch(`${url}/api/items?x=1`, { headers: { 'x-api-key': 'k1' } })
  assert.equal(ok.status, 200)
  const seen = await ok.json() as Upstream['received'][number]
  assert.equal(seen.path, '/v2/items?x=1')
  assert.equal(seen.headers['x-auth-subject'], 'alice')
  assert.equal(seen.headers['x-api-key'], undefined)
  assert.equal(seen.headers['x-forwarded-for'], '127.0.0.1')
  assert.equal(ok.headers.get('x-upstream'), 'yes')
  assert.equal(ok.headers.get('x-filtered'), 'yes', 'the response phase ran on the proxied reply')
  assert.equal(ok.headers.get('ratelimit-limit'), '2')

  const open = await fetch(`${url}/open/thing`, { method: 'POST', body: 'raw body', headers: { 'content-type': 'text/plain' } })
  const openSeen = await open.json() as Upstream['received'][number]
  assert.equal(openSeen.path, '/open/thing', 'a route without a chain is proxied untouched')
  assert.equal(openSeen.body, 'raw body', 'bodies are forwarded as received')
  assert.equal(open.headers.get('x-filtered'), null)

  const health = await fetch(`${url}/health`)
  assert.equal(await health.text(), 'ok')
  assert.equal((await fetch(`${url}/nowhere`)).status, 404)
})

test('the rate limit holds across proxied requests: 429 without reaching the upstream', async (t) => {
  const up = await upstream(t)
  const { url } = await gateway(t, config(up.url))
  const codes: number[] = []
  for (let i = 0; i < 3; i++) codes.push((await fetch(`${url}/api/x`, { headers: { 'x-api-key': 'k1' } })).status)
  assert.deepEqual(codes, [200, 200, 429])
  assert.equal(up.received.length, 2)
})

test('413: a body over server.bodyLimit is refused with a JSON error', async (t) => {
  const up = await upstream(t)
  const { url } = await gateway(t, config(up.url, { server: { bodyLimit: 1000 } }))
  const res = await fetch(`${url}/open/upload`, { method: 'POST', body: 'x'.repeat(5000), headers: { 'content-type': 'text/plain' } })
  assert.equal(res.status, 413)
  const body = await res.json() as { statusCode: number, message: string }
  assert.equal(body.statusCode, 413)
  assert.match(body.message, /body/i)
  assert.equal(up.received.length, 0)
})

test('431: headers over server.headerLimit get a JSON error naming the limit', async (t) => {
  const up = await upstream(t)
  const { url } = await gateway(t, config(up.url, { server: { headerLimit: 2048 } }))
  const { status, body } = await new Promise<{ status: number, body: string }>((resolve, reject) => {
    const req = httpRequest(`${url}/open/x`, { headers: { 'x-big': 'y'.repeat(4096) } }, (res) => {
      let data = ''
      res.setEncoding('utf8')
      res.on('data', (c: string) => { data += c })
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: data }))
    })
    req.on('error', reject)
    req.end()
  })
  assert.equal(status, 431)
  assert.deepEqual(JSON.parse(body), {
    statusCode: 431, code: 'WAFER_ERR_HEADERS_TOO_LARGE', error: 'Request Header Fields Too Large',
    message: 'The request headers exceed the limit of 2048 bytes (server.headerLimit)'
  })
  assert.equal((await fetch(`${url}/health`)).status, 200, 'the server keeps serving')
})

test('502 when the upstream refuses connections, 504 when it is too slow; both JSON without internal addresses', async (t) => {
  const up = await upstream(t)
  const closed = createServer()
  await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve))
  const deadPort = (closed.address() as AddressInfo).port
  await new Promise<void>((resolve) => closed.close(() => resolve()))
  const { url } = await gateway(t, config(up.url, {
    routes: [
      { match: { path: '/dead/' }, upstream: `http://127.0.0.1:${deadPort}` },
      { match: { path: '/slow/' }, upstream: up.url, timeoutMs: 200 }
    ]
  }))
  const dead = await fetch(`${url}/dead/x`)
  assert.equal(dead.status, 502)
  const deadBody = await dead.json() as Record<string, unknown>
  assert.equal(deadBody.code, 'WAFER_ERR_UPSTREAM_UNAVAILABLE')
  assert.doesNotMatch(JSON.stringify(deadBody), new RegExp(String(deadPort)))

  const slow = await fetch(`${url}/slow/x`)
  assert.equal(slow.status, 504)
  assert.equal((await slow.json() as Record<string, unknown>).code, 'WAFER_ERR_UPSTREAM_TIMEOUT')
})

test('status and metrics on the admin listener', async (t) => {
  const up = await upstream(t)
  const { url, adminUrl } = await gateway(t, config(up.url))
  await fetch(`${url}/api/a`)
  await fetch(`${url}/api/a`, { headers: { 'x-api-key': 'k1' } })

  const status = await (await fetch(`${adminUrl}/_wafer/status`)).json() as {
    filters: Array<{ name: string, sha256: string, size: number, pool: { idle: number, busy: number } }>, chains: Record<string, string[]>
  }
  const auth = status.filters.find((f) => f.name === 'auth')
  assert.match(auth?.sha256 ?? '', /^[0-9a-f]{64}$/)
  assert.ok((auth?.size ?? 0) > 1000)
  assert.deepEqual(auth?.pool && { idle: auth.pool.idle, busy: auth.pool.busy }, { idle: 1, busy: 0 })
  assert.deepEqual(status.chains.api, ['auth', 'rewrite', 'limit'])

  const metrics = await (await fetch(`${adminUrl}/metrics`)).text()
  assert.match(metrics, /wafer_filter_calls_total\{filter="auth",phase="request",outcome="respond"\} 1/)
  assert.match(metrics, /wafer_filter_calls_total\{filter="auth",phase="request",outcome="continue"\} 1/)
  assert.match(metrics, /wafer_filter_duration_seconds_count\{filter="auth",phase="request"\} 2/)
  assert.match(metrics, /wafer_upstream_responses_total\{route="0:\/api\/",status="200"\} 1/)
  assert.match(metrics, /wafer_pool_instances\{filter="auth",state="idle"\} 1/)
  assert.equal((await fetch(`${url}/metrics`)).status, 404, 'metrics are not on the public port')
})

test('graceful shutdown: an in-flight request finishes, new connections are refused', async (t) => {
  const up = await upstream(t)
  const { gw, url } = await gateway(t, config(up.url, { routes: [{ match: { path: '/slow/' }, upstream: up.url, timeoutMs: 5000 }] }))
  const inflight = fetch(`${url}/slow/x`)
  await new Promise((resolve) => setTimeout(resolve, 200))
  const closing = gw.close()
  const res = await inflight
  assert.equal(res.status, 200)
  assert.equal((await res.json() as { path: string }).path, '/slow/x')
  await closing
  await assert.rejects(fetch(`${url}/slow/y`))
})

test('POST /_wafer/reload applies a changed config file, refuses a broken one (422), and status and metrics say so', async (t) => {
  const up = await upstream(t)
  const dir = await mkdtemp(join(tmpdir(), 'wafer-gw-reload-'))
  const file = join(dir, 'gateway.json')
  const withLimit = (limit: number) => JSON.stringify({ ...config(up.url), filters: { ...config(up.url).filters, limit: { module: exampleFilter('rate-limit'), config: { limit, windowMs: 60000, key: 'header:x-auth-subject' } } } })
  await writeFile(file, withLimit(2))
  const gw = await Gateway.create({ config: file, port: 0, logger: silent, watch: false })
  t.after(() => gw.close())
  const { url, adminUrl } = await gw.listen()
  const call = () => fetch(`${url}/api/x`, { headers: { 'x-api-key': 'k1' } })
  assert.equal((await call()).headers.get('ratelimit-limit'), '2')

  await writeFile(file, withLimit(50))
  const applied = await fetch(`${adminUrl}/_wafer/reload`, { method: 'POST' })
  assert.equal(applied.status, 200)
  const report = await applied.json() as { outcome: string, loaded: string[], from: number, to: number }
  assert.deepEqual([report.outcome, report.loaded, report.from, report.to], ['applied', ['limit'], 1, 2])
  assert.equal((await call()).headers.get('ratelimit-limit'), '50')

  await writeFile(file, '{ "filters": ')
  const refused = await fetch(`${adminUrl}/_wafer/reload`, { method: 'POST' })
  assert.equal(refused.status, 422)
  assert.equal((await refused.json() as { error: { code: string } }).error.code, 'WAFER_ERR_CONFIG_PARSE')
  assert.equal((await call()).headers.get('ratelimit-limit'), '50', 'the running version keeps serving')

  const status = await (await fetch(`${adminUrl}/_wafer/status`)).json() as { generation: number, lastReload: { outcome: string } }
  assert.equal(status.generation, 2)
  assert.equal(status.lastReload.outcome, 'failed')
  const metrics = await (await fetch(`${adminUrl}/metrics`)).text()
  assert.match(metrics, /wafer_reloads_total\{outcome="applied"\} 1/)
  assert.match(metrics, /wafer_reloads_total\{outcome="failed"\} 1/)
  assert.match(metrics, /wafer_generation 2/)
})

test('a hostile filter behind the gateway: 503 with its reason, counted by reason in metrics, the next request served', async (t) => {
  const up = await upstream(t)
  const { url, adminUrl } = await gateway(t, {
    server: { logger: { level: 'silent' } },
    admin: { port: 0 },
    filters: {
      loop: { module: fixture('hostile-loop'), limits: { fuel: 1_000_000 }, breaker: { failures: 2, cooldownMs: 60_000 } }
    },
    routes: [
      { match: { path: '/loop/' }, chain: ['loop'], upstream: up.url },
      { match: { path: '/fine/' }, upstream: up.url }
    ]
  })
  for (let i = 0; i < 3; i++) {
    const res = await fetch(`${url}/loop/x`)
    assert.equal(res.status, 503)
    const body = await res.json() as { code: string, reason: string, filter: string }
    assert.equal(body.filter, 'loop')
    assert.equal(body.reason, i < 2 ? 'fuel' : 'circuit-open', `request ${i + 1}`)
  }
  assert.equal((await fetch(`${url}/fine/x`)).status, 200, 'the server keeps serving')
  assert.equal(up.received.filter((r) => r.path.startsWith('/loop')).length, 0)
  const metrics = await (await fetch(`${adminUrl}/metrics`)).text()
  assert.match(metrics, /wafer_filter_failures_total\{filter="loop",code="WAFER_ERR_FILTER_FUEL",reason="fuel"\} 2/)
  assert.match(metrics, /wafer_filter_failures_total\{filter="loop",code="WAFER_ERR_CIRCUIT_OPEN",reason="circuit-open"\} 1/)
  assert.match(metrics, /wafer_breaker_open\{filter="loop"\} 1/)
})
