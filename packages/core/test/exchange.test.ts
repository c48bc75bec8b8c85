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
  applyRequestPatch(e, { setHeaders: { 'x-a': '1' } }, false)
  assert.match(e.requestInput(false), /"x-behind":"1","x-a":"1"/)
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
    [{ setHeaders: { 'x-a': 'v\r\nx-b: 1' } }, /contains CR, LF or NUL/],
    [{ setHeaders: { 'x-a': 7 } }, /must be a string or a non-empty array of strings/],
    [{ setHeaders: { 'x-ok': '1' }, path: 'no-slash' }, /"path" must start with "\/"/],
    [{ path: '/a?b' }, /"path" must start with "\/" and contain no "\?"/],
    [{ removeHeaders: 'x-a' }, /"removeHeaders" must be an array/],
    [{ body: 'x' }, /only be set by a filter that declared NEEDS_REQUEST_BODY/],
    [{ setHeader: {} }, /unknown field "setHeader"/],
    [{ setHeaders: { 'x-ok': '1' }, setResponseHeaders: { 'x-r': 'a\nb' } }, /"setResponseHeaders": value of header "x-r" contains CR, LF or NUL/],
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
