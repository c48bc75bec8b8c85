// Issue 12, items 1 and 2: backslashes, encoded dots and slashes, and absolute-form targets took
// requests outside the route's upstream base path, and past the auth chain of another route.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { exampleFilters, rawRequest, recordingUpstream, startGateway, type Upstream } from '../support/proxy-harness.ts'

/** Each turns `/<prefix>/x` into an attempt to reach `/admin/secret` or `/etc/passwd` above it. */
const TRAVERSALS = [
  'x\\..\\..\\admin\\secret',
  'x\\..\\..\\..\\etc\\passwd',
  'x%5c..%5c..%5cadmin%5csecret',
  'x%5C..%5C..%5Cadmin%5Csecret',
  '%2e%2e/%2e%2e/admin/secret',
  '%2E%2E/%2E%2E/admin/secret',
  '.%2e/.%2e/admin/secret',
  '%2e./admin/secret',
  '..%2f..%2fadmin%2fsecret',
  '..%2F..%2Fadmin%2Fsecret',
  '%252e%252e/%252e%252e/admin/secret',
  '%252e%252e%252f%252e%252e%252fadmin',
  '%25%32%65%25%32%65/admin/secret',
  'x\\%2e%2e%5c..\\admin/secret',
  '..%5c%2e%2e/admin/secret',
  './../admin/secret',
  'x/../../admin/secret',
  'x/#/../../admin/secret',
  '..;/..;/admin/secret',
  '.%2e;x/..%3B/admin/secret'
]

async function gatewayWithRoutes (t: Parameters<typeof startGateway>[0]): Promise<{ port: number, up: Upstream, lines: Array<Record<string, unknown>> }> {
  const up = await recordingUpstream(t)
  const { port, lines } = await startGateway(t, {
    server: { logger: { level: 'info' } },
    filters: exampleFilters({ from: '/v2/', to: '/v3/' }),
    routes: [
      { match: { path: '/public/' }, upstream: up.url },
      { match: { path: '/admin/' }, chain: ['request-id', 'auth'], upstream: up.url },
      { match: { path: '/v2/' }, chain: ['request-id', 'auth', 'rewrite', 'rate-limit'], upstream: `${up.url}/base` }
    ]
  })
  return { port, up, lines }
}

const get = (target: string, headers = ''): string => `GET ${target} HTTP/1.1\r\nHost: gw.test\r\n${headers}Connection: close\r\n\r\n`

test('no traversal variant reaches a path outside its route, or /admin/ without the auth chain', async (t) => {
  const { port, up, lines } = await gatewayWithRoutes(t)
  for (const prefix of ['/public/', '/admin/', '/v2/']) {
    for (const variant of TRAVERSALS) {
      for (const key of ['', 'x-api-key: k1\r\n']) {
        const target = prefix + variant
        const res = await rawRequest(port, get(target, key))
        assert.equal(res.status, 400, `${target} is refused`)
        assert.equal(JSON.parse(res.body.toString()).code, 'WAFER_ERR_BAD_REQUEST_TARGET', target)
      }
    }
  }
  assert.deepEqual(up.received.map((r) => r.line), [], 'the upstream received none of them')
  const logged = lines.filter((l) => (l.err as { code?: string } | undefined)?.code === 'WAFER_ERR_BAD_REQUEST_TARGET')
  assert.equal(logged.length, 3 * TRAVERSALS.length * 2, 'each refusal has a log line with the code')

  // Ordinary requests still pass, each inside its route and through its chain.
  assert.equal((await rawRequest(port, get('/public/a.b/c..d?q=%2e'))).status, 200)
  assert.equal((await rawRequest(port, get('/admin/secret'))).status, 401, 'auth still runs')
  assert.equal((await rawRequest(port, get('/admin/secret', 'x-api-key: k1\r\n'))).status, 200)
  assert.equal((await rawRequest(port, get('/v2/%69tems?x=1', 'x-api-key: k1\r\n'))).status, 200)
  assert.deepEqual(up.received.map((r) => r.line), [
    'GET /public/a.b/c..d?q=%2e HTTP/1.1',
    'GET /admin/secret HTTP/1.1',
    'GET /base/v3/items?x=1 HTTP/1.1'
  ], 'an encoded letter is decoded once, for the router, the filters (rewrite matched) and the upstream alike')
  assert.equal(up.received[1]?.headers['x-auth-subject'], 'alice')
})

test('absolute-form targets are routed, filtered and forwarded by their path (RFC 9112 section 3.2.2)', async (t) => {
  const { port, up } = await gatewayWithRoutes(t)
  const res = await rawRequest(port, get('http://evil.example/v2/x?y=1', 'x-api-key: k1\r\n'))
  assert.equal(res.status, 200)
  assert.equal((await rawRequest(port, get('http://evil.example/admin/secret'))).status, 401, 'the auth chain ran')
  assert.equal((await rawRequest(port, get('HTTP://evil.example/public/p'))).status, 200)
  assert.deepEqual(up.received.map((r) => r.line), [
    'GET /base/v3/x?y=1 HTTP/1.1',
    'GET /public/p HTTP/1.1'
  ], 'the rewrite filter saw /v2/x, and the upstream got a path under its base')
  assert.equal(up.received[0]?.headers.host, new URL(up.url).host)

  for (const target of ['http://evil.example/v2/..%2f..%2fetc', 'http://evil.example/public/x\\..\\..\\admin', 'http://evil.example#/public/x']) {
    assert.equal((await rawRequest(port, get(target, 'x-api-key: k1\r\n'))).status, 400, target)
  }
  assert.equal(up.received.length, 2)
})
