import assert from 'node:assert/strict'
import { test } from 'node:test'
import { Exchange } from '../src/index.ts'
import { applyRequestPatch, applyResponsePatch, OutputError, parseLocalResponse } from '../src/http/patch.ts'
import { silent } from '../../../test/support/index.ts'

function ex (): Exchange {
  return new Exchange({ id: 'r1', method: 'POST', url: '/a/b?x=1&y=2', headers: { host: 'h', 'set-cookie': ['a=1', 'b=2'] }, remoteAddress: '::1', log: silent })
}

test('the request input is the documented JSON, fields in order', () => {
  const e = ex()
  assert.equal(e.requestInput(false).toString(),
    '{"id":"r1","method":"POST","path":"/a/b","query":"x=1&y=2","remoteAddress":"::1","headers":{"host":"h","set-cookie":["a=1","b=2"]}}')
})

test('the encoding is cached until the request changes', () => {
  const e = ex()
  const a = e.requestInput(false)
  e.headers['x-behind'] = '1' // not through a patch: no touch(), so the cached text stays
  assert.equal(e.requestInput(false), a)
  e.touch()
  assert.match(e.requestInput(false).toString(), /"x-behind":"1"\}\}$/, 'touch() drops every cached part')
  applyRequestPatch(e, { setHeaders: { 'x-a': '1' } }, false)
  assert.match(e.requestInput(false).toString(), /"x-behind":"1","x-a":"1"\}\}$/)
})

test('the body is included only when asked for: UTF-8 as text, anything else as base64', () => {
  const e = ex()
  e.body = Buffer.from('{"n":"é"}')
  assert.doesNotMatch(e.requestInput(false).toString(), /body/)
  assert.match(e.requestInput(true).toString(), /,"body":"\{\\"n\\":\\"é\\"\}"\}$/)
  const bin = ex()
  bin.body = Buffer.from([0xff, 0xfe, 0x00])
  assert.match(bin.requestInput(true).toString(), /,"bodyBase64":"__4A"\}$|,"bodyBase64":"\/\/4A"\}$/)
})

test('a request patch sets and removes headers, rewrites path and query, and replaces the body', () => {
  const e = ex()
  applyRequestPatch(e, { removeHeaders: ['Set-Cookie'], setHeaders: { 'X-User': 'alice' }, path: '/v2/b', query: 'z=3', body: 'hi' }, true)
  assert.equal(e.headers['set-cookie'], undefined)
  assert.equal(e.headers['x-user'], 'alice', 'names are lower-cased')
  assert.equal(e.url, '/v2/b?z=3')
  assert.ok(e.pathChanged && e.queryChanged && e.bodyChanged)
  assert.equal(e.headers['content-length'], '2')
})

test('setResponseHeaders collects headers for the reply and leaves the request and its encoding alone', () => {
  const e = ex()
  const input = e.requestInput(false)
  e.headers['x-behind'] = '1' // shows whether the patch made it encode again
  applyRequestPatch(e, { setResponseHeaders: { 'RateLimit-Remaining': '4', 'x-tags': ['a', 'b'] } }, false)
  assert.deepEqual(e.responseHeaders, { 'ratelimit-remaining': '4', 'x-tags': ['a', 'b'] })
  assert.equal(e.requestInput(false), input, 'not re-encoded')
  assert.equal(e.headers['ratelimit-remaining'], undefined, 'not a request header')
  applyRequestPatch(e, { setResponseHeaders: { 'ratelimit-remaining': '3', 'x-id': '7' }, setHeaders: { 'x-a': '1' } }, false)
  assert.deepEqual(e.responseHeaders, { 'ratelimit-remaining': '3', 'x-tags': ['a', 'b'], 'x-id': '7' }, 'they add up; a later filter wins')
  assert.notEqual(e.requestInput(false), input, 'a request change still re-encodes')
})

test('an invalid patch is rejected whole: nothing is applied', () => {
  const bad: Array<[unknown, RegExp]> = [
    [{ setHeaders: { 'x-ok': '1', 'bad name': 'v' } }, /header name "bad name" is not an HTTP token/],
    [{ setHeaders: { 'x-a': 'v\r\nx-b: 1' } }, /contains the control character U\+000D/],
    [{ setHeaders: { 'x-a': 7 } }, /must be a string or a non-empty array of strings/],
    [{ setHeaders: { 'x-ok': '1' }, path: 'no-slash' }, /"path" is refused: the path must start with "\/"/],
    [{ path: '/a?b' }, /"path" is refused: the path may not contain "\?"/],
    [{ removeHeaders: 'x-a' }, /"removeHeaders" must be an array/],
    [{ body: 'x' }, /only be set by a filter that declared NEEDS_REQUEST_BODY/],
    [{ setHeader: {} }, /unknown field "setHeader"/],
    [{ setHeaders: { 'x-ok': '1' }, setResponseHeaders: { 'x-r': 'a\nb' } }, /"setResponseHeaders": the value of header "x-r" contains the control character U\+000A/],
    [{ setResponseHeaders: ['x'] }, /"setResponseHeaders" must be an object/],
    [{ setResponseHeaders: { 'Content-Type': 'text/html' } }, /"setResponseHeaders" cannot set "content-type": it describes the reply's body/],
    [[], /must be a JSON object/]
  ]
  for (const [patch, message] of bad) {
    const e = ex()
    const before = JSON.stringify(e.headers)
    assert.throws(() => applyRequestPatch(e, patch, false), (err: Error) => err instanceof OutputError && message.test(err.message))
    assert.equal(JSON.stringify(e.headers), before)
    assert.equal(e.url, '/a/b?x=1&y=2')
    assert.equal(e.responseHeaders, undefined)
  }
})

test('a local response needs a status 200-599 and gets a text content-type when it has a body', () => {
  assert.deepEqual(parseLocalResponse({ status: 401, body: 'no' }), { status: 401, headers: { 'content-type': 'text/plain; charset=utf-8' }, body: 'no' })
  assert.deepEqual(parseLocalResponse({ status: 204 }), { status: 204, headers: {}, body: undefined })
  assert.throws(() => parseLocalResponse({ status: 99 }), /"status" must be an integer from 200 to 599, got 99/)
  assert.throws(() => parseLocalResponse({ body: 'x' }), /"status" must be an integer/)
  assert.throws(() => parseLocalResponse({ status: 200, extra: 1 }), /unknown field "extra"/)
})

test('a response patch changes status and headers and marks the reply changed', () => {
  const e = ex()
  e.response = { status: 200, headers: { 'content-type': 'text/plain', 'x-old': '1' }, body: undefined, changed: false, bodyChanged: false }
  applyResponsePatch(e, { status: 201, removeHeaders: ['x-old'], setHeaders: { 'x-new': '2' } }, false)
  assert.deepEqual(e.response, { status: 201, headers: { 'content-type': 'text/plain', 'x-new': '2' }, body: undefined, changed: true, bodyChanged: false })
  assert.throws(() => applyResponsePatch(e, { body: 'x' }, false), /NEEDS_RESPONSE_BODY/)
})

test('the hand-built input JSON is exactly what JSON.stringify gives, escapes included', async () => {
  const { headersJson, quote } = await import('../src/http/json-text.ts')
  const strings = ['', 'plain', 'say "hi"', 'back\\slash', 'tab\there', 'nul\u0000', 'é ü 中文 😀', 'lone \ud800 surrogate', 'end \udfff', '\u2028\u2029', '\u007f\u0080']
  for (const s of strings) assert.equal(quote(s), JSON.stringify(s))
  const headers = { host: 'h', 'x-q': 'a"b', 'set-cookie': ['a=1', 'b="2"'], gone: undefined, 'content-length': 42, 'x-uni': 'é\n' }
  assert.equal(headersJson(headers), JSON.stringify(headers))
  assert.equal(headersJson({}), '{}')
  assert.equal(headersJson({ a: undefined }), '{}')
})

test('after any sequence of patches the cached encoding equals a fresh encoding of the same request', () => {
  // A small deterministic generator: the same sequences on every run.
  let seed = 42
  const next = (n: number): number => { seed = (seed * 1103515245 + 12345) % 2147483648; return seed % n }
  const names = ['host', 'x-a', 'x-b', 'accept', 'x-"q"', 'set-cookie', 'x-c']
  const values = ['1', 'two', 'with "quotes"', 'é', 'back\\slash']
  for (let round = 0; round < 200; round++) {
    const e = ex()
    for (let step = 0; step < 6; step++) {
      e.requestInput(false) // encode between patches, so the next one works from the cache
      const patch: Record<string, unknown> = {}
      const kind = next(4)
      if (kind === 0) patch.removeHeaders = [names[next(names.length)] as string, names[next(names.length)] as string].filter((n) => !n.includes('"'))
      if (kind <= 1) {
        const set: Record<string, unknown> = {}
        for (let i = next(3); i >= 0; i--) {
          const name = names[next(names.length)] as string
          if (!name.includes('"')) set[name] = next(5) === 0 ? ['a', values[next(values.length)]] : values[next(values.length)]
        }
        patch.setHeaders = set
      }
      if (kind === 2) patch.path = `/p${next(3)}`
      if (kind === 3) patch.query = next(2) === 0 ? '' : `q=${next(9)}`
      applyRequestPatch(e, patch, false)
      const fresh = new Exchange({ id: e.id, method: e.method, url: e.url, headers: { ...e.headers }, remoteAddress: e.remoteAddress, log: silent })
      assert.deepEqual(JSON.parse(e.requestInput(false).toString()), JSON.parse(fresh.requestInput(false).toString()), `round ${round}, step ${step}: ${JSON.stringify(patch)}`)
    }
  }
})
