// Issue 12, items 3 and 4: proxied request bodies reached the upstream JSON-encoded as a Buffer
// (`{"type":"Buffer","data":[...]}`), with the content-type's parameters (charset, multipart
// boundary) cut; and `Expect: 100-continue` answered 502 without calling the upstream.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { fixture } from '../support/index.ts'
import { exampleFilters, rawRequest, recordingUpstream, startGateway } from '../support/proxy-harness.ts'

const boundary = '----wafer7MA4YWxkTrZu0gW'
const multipart = Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="a"\r\n\r\n1\r\n` +
  `--${boundary}\r\nContent-Disposition: form-data; name="f"; filename="b.bin"\r\nContent-Type: application/octet-stream\r\n\r\n`)
const binary = Buffer.from(Array.from({ length: 256 }, (_, i) => i))

const BODIES: Array<{ name: string, contentType: string | undefined, body: Buffer }> = [
  { name: 'JSON', contentType: 'application/json', body: Buffer.from('{"a":1}') },
  { name: 'JSON with a charset', contentType: 'application/json; charset=utf-8', body: Buffer.from('{"é":[1,2]}') },
  { name: 'form', contentType: 'application/x-www-form-urlencoded', body: Buffer.from('a=1&b=%C3%A9+x') },
  { name: 'multipart', contentType: `multipart/form-data; boundary=${boundary}`, body: Buffer.concat([multipart, binary, Buffer.from(`\r\n--${boundary}--\r\n`)]) },
  { name: 'binary', contentType: 'application/octet-stream', body: binary },
  { name: 'binary without a content-type', contentType: undefined, body: binary },
  { name: 'empty JSON', contentType: 'application/json', body: Buffer.alloc(0) },
  { name: 'text', contentType: 'text/plain; charset=iso-8859-1', body: Buffer.from('caf\xe9', 'latin1') }
]

function post (path: string, contentType: string | undefined, framing: string, extra = ''): string {
  return `POST ${path} HTTP/1.1\r\nHost: gw.test\r\n${contentType === undefined ? '' : `Content-Type: ${contentType}\r\n`}${framing}${extra}Connection: close\r\n\r\n`
}

function chunked (body: Buffer): Buffer {
  const parts: Buffer[] = []
  for (let i = 0; i < body.length; i += 100) {
    const piece = body.subarray(i, i + 100)
    parts.push(Buffer.from(`${piece.length.toString(16)}\r\n`), piece, Buffer.from('\r\n'))
  }
  return Buffer.concat([...parts, Buffer.from('0\r\n\r\n')])
}

async function gateway (t: Parameters<typeof startGateway>[0]) {
  const up = await recordingUpstream(t)
  const { port, lines } = await startGateway(t, {
    filters: { ...exampleFilters({ from: '/api/', to: '/internal/' }), upper: { module: fixture('body-upper') } },
    routes: [
      { match: { path: '/public/' }, upstream: up.url },
      { match: { path: '/api/' }, chain: ['request-id', 'auth', 'rewrite', 'rate-limit'], upstream: up.url },
      { match: { path: '/upper/' }, chain: ['upper'], upstream: up.url }
    ]
  })
  return { port, up, lines }
}

test('proxied bodies arrive byte-identical, with their content-type, whatever the framing', async (t) => {
  const { port, up } = await gateway(t)
  for (const path of ['/public/upload', '/api/upload']) {
    for (const { name, contentType, body } of BODIES) {
      for (const framing of ['length', 'chunked'] as const) {
        const head = post(path, contentType, framing === 'length' ? `Content-Length: ${body.length}\r\n` : 'Transfer-Encoding: chunked\r\n', 'x-api-key: k1\r\n')
        const res = await rawRequest(port, head, framing === 'length' ? body : chunked(body))
        const what = `${name}, ${framing}, ${path}`
        assert.equal(res.status, 200, what)
        const seen = up.received.at(-1)
        assert.ok(seen !== undefined, what)
        assert.ok(seen.body.equals(body), `${what}: the upstream got ${JSON.stringify(seen.body.toString('latin1').slice(0, 60))}`)
        assert.equal(seen.headers['content-type'], contentType, what)
        assert.equal(seen.headers['content-length'], String(body.length), `${what}: the length of the bytes sent`)
        assert.equal(seen.headers['transfer-encoding'], undefined, what)
      }
    }
  }
  assert.equal(up.received.length, 2 * BODIES.length * 2)
})

test('a body a filter replaced arrives with its own length and the client\'s content-type', async (t) => {
  const { port, up } = await gateway(t)
  const body = Buffer.from('{"name":"wafer"}')
  for (const framing of [`Content-Length: ${body.length}\r\n`, 'Transfer-Encoding: chunked\r\n']) {
    const res = await rawRequest(port, post('/upper/x', 'application/json; charset=utf-8', framing), framing.startsWith('Content') ? body : chunked(body))
    assert.equal(res.status, 200)
    const seen = up.received.at(-1)
    assert.equal(seen?.body.toString(), '{"NAME":"WAFER"}')
    assert.equal(seen?.headers['content-type'], 'application/json; charset=utf-8')
    assert.equal(seen?.headers['content-length'], '16')
    assert.equal(seen?.headers['x-body'], '16', 'the filter saw the de-chunked body')
  }
})

test('Expect: 100-continue is answered by the gateway and not forwarded (RFC 9110 section 10.1.1)', async (t) => {
  const { port, up, lines } = await gateway(t)
  const body = Buffer.from('{"a":1}')
  for (const path of ['/public/e', '/api/e']) {
    const head = post(path, 'application/json', `Content-Length: ${body.length}\r\n`, 'Expect: 100-continue\r\nx-api-key: k1\r\n')
    const res = await rawRequest(port, head, body, { awaitContinue: true })
    assert.deepEqual(res.interim, ['HTTP/1.1 100 Continue'], path)
    assert.equal(res.status, 200, `${path}: ${res.body.toString()}`)
    const seen = up.received.at(-1)
    assert.ok(seen?.body.equals(body), path)
    assert.equal(seen?.headers.expect, undefined, `${path}: the expectation was met hop by hop`)
  }
  assert.equal(up.received.length, 2)
  assert.deepEqual(lines.filter((l) => l.level >= 50).map((l) => l.msg), [], 'nothing logged as an upstream failure')
})
