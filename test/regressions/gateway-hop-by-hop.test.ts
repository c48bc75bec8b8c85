// Issue 12 item 5 and issue 11 item 4: a client's `Connection` header removed the headers the
// filters set (the auth filter's identity) before the request went upstream, and hop-by-hop
// fields passed through in both directions (RFC 9110 section 7.6.1).
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { exampleFilters, rawRequest, recordingUpstream, startGateway } from '../support/proxy-harness.ts'

const HOP_BY_HOP = ['connection', 'keep-alive', 'proxy-connection', 'te', 'trailer', 'transfer-encoding', 'upgrade']

async function gateway (t: Parameters<typeof startGateway>[0]) {
  // The upstream answers with hop-by-hop fields of its own, and nominates x-upstream-hop.
  const up = await recordingUpstream(t, {
    connection: 'keep-alive, x-upstream-hop',
    'keep-alive': 'timeout=5',
    'proxy-connection': 'keep-alive',
    trailer: 'x-checksum',
    upgrade: 'h2c',
    'x-upstream-hop': 'drop me',
    'x-end-to-end': 'keep me'
  })
  const { port } = await startGateway(t, {
    filters: exampleFilters({ from: '/api/', to: '/internal/' }),
    routes: [
      { match: { path: '/api/' }, chain: ['request-id', 'auth', 'rewrite', 'rate-limit'], upstream: up.url },
      { match: { path: '/public/' }, upstream: up.url }
    ]
  })
  return { port, up }
}

test('a client cannot nominate away the headers filters set', async (t) => {
  const { port, up } = await gateway(t)
  const res = await rawRequest(port, 'GET /api/items HTTP/1.1\r\nHost: gw.test\r\nx-api-key: k1\r\n' +
    'Connection: x-auth-subject, x-request-id, x-gateway, x-forwarded-for, x-client-hop, content-length\r\n' +
    'Connection: close\r\nx-client-hop: 1\r\nx-request-id: client-id\r\nx-auth-subject: mallory\r\n\r\n')
  assert.equal(res.status, 200)
  const seen = up.received[0]
  assert.equal(seen?.line, 'GET /internal/items HTTP/1.1')
  assert.equal(seen?.headers['x-auth-subject'], 'alice', 'the identity the auth filter established, not the client\'s')
  assert.equal(seen?.headers['x-gateway'], 'wafer', 'set by the rewrite filter')
  assert.match(String(seen?.headers['x-request-id']), /^[0-9a-f-]{36}$/, 'set by the request-id filter')
  assert.equal(seen?.headers['x-forwarded-for'], '127.0.0.1', 'the gateway\'s own')
  assert.equal(seen?.headers['x-client-hop'], undefined, 'a field the client nominated is dropped')
})

test('hop-by-hop fields are dropped from the request and from the response', async (t) => {
  const { port, up } = await gateway(t)
  for (const path of ['/api/items', '/public/items']) {
    const res = await rawRequest(port, `GET ${path} HTTP/1.1\r\nHost: gw.test\r\nx-api-key: k1\r\n` +
      'Connection: close, x-client-hop\r\nKeep-Alive: timeout=1\r\nProxy-Connection: keep-alive\r\nTE: trailers\r\n' +
      'Trailer: x-sum\r\nUpgrade: websocket\r\nx-client-hop: 1\r\nx-end-to-end: 1\r\n' +
      'x-forwarded-for: 10.9.9.9\r\nx-forwarded-proto: https\r\nx-forwarded-host: evil.example\r\n\r\n')
    assert.equal(res.status, 200, path)
    const seen = up.received.at(-1)
    for (const name of [...HOP_BY_HOP.filter((n) => n !== 'connection'), 'x-client-hop']) {
      assert.equal(seen?.headers[name], undefined, `${path}: the upstream got the client's ${name}`)
    }
    assert.notEqual(seen?.headers.connection, 'close', `${path}: the gateway's own connection to the upstream`)
    assert.equal(seen?.headers['x-end-to-end'], '1')
    // What docs/config.md says the gateway adds and replaces.
    assert.equal(seen?.headers.host, new URL(up.url).host)
    assert.equal(seen?.headers['x-forwarded-for'], '10.9.9.9, 127.0.0.1', 'appended to the client\'s')
    assert.equal(seen?.headers['x-forwarded-proto'], 'http', 'replaced')
    assert.equal(seen?.headers['x-forwarded-host'], 'gw.test', 'replaced by the Host the client sent')

    for (const name of ['keep-alive', 'proxy-connection', 'trailer', 'upgrade', 'x-upstream-hop']) {
      assert.equal(res.headers[name], undefined, `${path}: the client got the upstream's ${name}`)
    }
    assert.deepEqual(res.headers.connection, ['close'], `${path}: the gateway's own connection header, once`)
    assert.deepEqual(res.headers['x-end-to-end'], ['keep me'])
    assert.equal(res.body.toString(), 'upstream')
  }

  // On a kept-alive client connection the gateway states its own keep-alive, not the upstream's.
  const kept = await rawRequest(port, 'GET /public/x HTTP/1.1\r\nHost: gw.test\r\n\r\nGET /public/y HTTP/1.1\r\nHost: gw.test\r\nConnection: close\r\n\r\n')
  assert.deepEqual(kept.headers.connection, ['keep-alive'])
  assert.equal(kept.headers['keep-alive']?.length, 1)
  assert.notEqual(kept.headers['keep-alive']?.[0], 'timeout=5')
})
