// The request context (http/request-context.ts): what every host-call ABI's reads and writes
// mean, by phase and header map, and which writes the host refuses.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { Exchange } from '../src/http/exchange.ts'
import { Field, FilterCall, HeaderMap, INVALID, NOT_FOUND, UNAVAILABLE, type Phase } from '../src/http/request-context.ts'
import { silent } from '../../../test/support/index.ts'

function call (phase: Phase = 'request', withBody = false): FilterCall {
  const ex = new Exchange({ id: 'r1', method: 'POST', url: '/a/b?x=1', headers: { host: 'h', 'set-cookie': ['a=1'], 'x-a': '1' }, remoteAddress: '10.0.0.1', log: silent })
  if (phase === 'response') ex.response = { status: 200, headers: { 'content-type': 'text/plain', 'content-length': 5 }, body: Buffer.from('hello'), changed: false, bodyChanged: false }
  ex.body = Buffer.from('{"n":1}')
  const c = new FilterCall()
  c.begin(ex, phase, withBody)
  return c
}

test('fields: method, path, query, address and id in both phases; bodies only when declared, in their phase', () => {
  const c = call()
  assert.deepEqual([Field.Method, Field.Path, Field.Query, Field.ClientAddress, Field.RequestId].map((f) => c.field(f)), ['POST', '/a/b', 'x=1', '10.0.0.1', 'r1'])
  assert.equal(c.field(Field.RequestBody), UNAVAILABLE, 'not declared')
  assert.deepEqual(call('request', true).field(Field.RequestBody), Buffer.from('{"n":1}'))
  assert.equal(call('request', true).field(Field.ResponseBody), UNAVAILABLE, 'wrong phase')
  assert.deepEqual(call('response', true).field(Field.ResponseBody), Buffer.from('hello'))
  assert.equal(c.field(99), UNAVAILABLE)
})

test('request headers: get joins values, set replaces, add appends (set-cookie stays a list), remove', () => {
  const c = call()
  const ex = c.ex as Exchange
  assert.equal(c.header(HeaderMap.Request, 'x-a'), '1')
  assert.equal(c.header(HeaderMap.Request, 'x-none'), NOT_FOUND)
  assert.equal(c.setHeader(HeaderMap.Request, 'x-a', '2', true), 0)
  assert.equal(ex.headers['x-a'], '1, 2')
  assert.equal(c.setHeader(HeaderMap.Request, 'set-cookie', 'b=2', true), 0)
  assert.deepEqual(ex.headers['set-cookie'], ['a=1', 'b=2'])
  assert.deepEqual(c.headerValues(HeaderMap.Request, 'set-cookie'), ['a=1', 'b=2'])
  assert.equal(c.header(HeaderMap.Request, 'set-cookie'), 'a=1, b=2')
  assert.equal(c.setHeader(HeaderMap.Request, 'x-a', '3', false), 0)
  assert.equal(ex.headers['x-a'], '3')
  assert.equal(c.removeHeader(HeaderMap.Request, 'x-a'), 0)
  assert.equal(c.removeHeader(HeaderMap.Request, 'x-a'), NOT_FOUND)
  assert.deepEqual(c.headerNames(HeaderMap.Request), ['host', 'set-cookie'])
})

test('maps by phase: the reply only in the response phase, the request read-only there, response-add only in the request phase', () => {
  const req = call()
  assert.equal(req.header(HeaderMap.Response, 'content-type'), UNAVAILABLE)
  assert.equal(req.setHeader(HeaderMap.ResponseAdd, 'ratelimit-remaining', '4', false), 0)
  assert.deepEqual(req.ex?.responseHeaders, { 'ratelimit-remaining': '4' })
  assert.equal(req.ex?.headers['ratelimit-remaining'], undefined, 'not a request header')
  assert.equal(req.setHeader(HeaderMap.ResponseAdd, 'content-type', 'text/html', false), INVALID)
  assert.match(req.problem, /describes the reply's body or connection/)

  const res = call('response')
  assert.equal(res.header(HeaderMap.Response, 'content-length'), '5', 'numbers read as text')
  assert.equal(res.header(HeaderMap.Request, 'x-a'), '1')
  assert.equal(res.setHeader(HeaderMap.Request, 'x-a', '2', false), UNAVAILABLE)
  assert.equal(res.setHeader(HeaderMap.ResponseAdd, 'x-b', '1', false), UNAVAILABLE)
  assert.equal(res.setHeader(HeaderMap.Response, 'x-served', 'yes', false), 0)
  assert.equal(res.ex?.response?.changed, true)
  assert.equal(res.status(), 200)
  assert.equal(res.setStatus(201), 0)
  assert.equal(res.ex?.response?.status, 201)
  assert.equal(call().status(), UNAVAILABLE)
})

test('values are RFC 9110 field values: control characters and non-Latin-1 are refused, obs-text passes', () => {
  const c = call()
  for (const bad of ['a\r\nb', 'a\u0000', 'a\u007f', '\u2603']) {
    assert.equal(c.setHeader(HeaderMap.Request, 'x-v', bad, false), INVALID, JSON.stringify(bad))
    assert.match(c.problem, /the value of header "x-v" contains/)
  }
  assert.equal(c.setHeader(HeaderMap.Request, 'x-v', 'caf\u00e9\tok', false), 0)
  assert.equal(c.ex?.headers['x-v'], 'caf\u00e9\tok')
})

test('bodies: a replaced request body fixes content-length; a replaced reply body drops it', () => {
  const req = call('request', true)
  req.ex?.setHeader('transfer-encoding', 'chunked')
  assert.equal(req.setBody(Field.RequestBody, Buffer.from('abc')), 0)
  assert.deepEqual([req.ex?.headers['content-length'], req.ex?.headers['transfer-encoding'], req.ex?.bodyChanged], ['3', undefined, true])
  assert.equal(call().setBody(Field.RequestBody, Buffer.from('x')), UNAVAILABLE, 'not declared')
  const res = call('response', true)
  assert.equal(res.setBody(Field.ResponseBody, Buffer.from('bye')), 0)
  assert.deepEqual([res.ex?.response?.body?.toString(), res.ex?.response?.headers['content-length'], res.ex?.response?.bodyChanged], ['bye', undefined, true])
})

test('a local response gets a text content-type unless its headers set one, and replaces the reply in the response phase', () => {
  const c = call()
  c.setHeader(HeaderMap.Local, 'www-authenticate', 'Bearer', false)
  c.respond(401, 'no')
  assert.deepEqual(c.finishRespond(), { status: 401, headers: { 'www-authenticate': 'Bearer', 'content-type': 'text/plain; charset=utf-8' }, body: 'no' })
  const json = call()
  json.setHeader(HeaderMap.Local, 'content-type', 'application/json', false)
  json.respond(400, '{}')
  assert.equal(json.finishRespond()?.headers['content-type'], 'application/json')
  const res = call('response')
  res.respond(503, 'down')
  res.finishRespond()
  assert.deepEqual([res.ex?.response?.status, res.ex?.response?.body?.toString(), res.ex?.response?.changed], [503, 'down', true])
  assert.equal(call().finishRespond(), undefined, 'RESPOND without respond()')
})
