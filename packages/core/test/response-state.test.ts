// The reply as the response phase sees it (http/response-state.ts): headers read from the
// framework one name at a time, changes kept as edits and written back, the whole list taken
// only when it is needed; and the request context's outcomes on such a reply.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { Exchange } from '../src/http/exchange.ts'
import { FilterCall, HeaderMap, NOT_FOUND } from '../src/http/request-context.ts'
import { replaceResponse } from '../src/http/decision.ts'
import { LiveResponse, type ReplyAccess } from '../src/http/response-state.ts'
import type { ResponseHeaders, ResponseHeaderValue } from '../src/http/exchange.ts'
import { silent } from '../../../test/support/index.ts'

/** A framework reply that records every call the response state makes into it. */
class FakeReply {
  status = 200
  headers: ResponseHeaders
  calls: string[] = []
  constructor (headers: ResponseHeaders) {
    this.headers = headers
  }
}

const access: ReplyAccess<FakeReply> = {
  header: (r, name) => { r.calls.push(`get ${name}`); return r.headers[name] },
  headers: (r) => { r.calls.push('all'); return { ...r.headers } },
  setHeader: (r, name, value: ResponseHeaderValue) => { r.calls.push(`set ${name}`); r.headers[name] = value },
  removeHeader: (r, name) => { r.calls.push(`remove ${name}`); delete r.headers[name] },
  setStatus: (r, status) => { r.calls.push(`status ${status}`); r.status = status }
}

function reply (): FakeReply {
  return new FakeReply({ 'content-type': 'text/plain', 'content-length': 5, 'x-route': '1', etag: '"a"' })
}

test('a read asks the reply for that one header; writes are edits applied by writeBack, without the whole list', () => {
  const r = reply()
  const state = new LiveResponse(access, r, 200, undefined)
  assert.equal(state.header('x-route'), '1')
  assert.equal(state.header('x-none'), undefined)
  state.edit('x-added', 'yes')
  state.edit('x-route', undefined)
  assert.equal(state.header('x-added'), 'yes', 'a read sees the filter\'s own change')
  assert.equal(state.header('x-route'), undefined)
  assert.deepEqual(r.calls, ['get x-route', 'get x-none'], 'edits are not applied before writeBack')
  assert.equal(state.changed, true)
  state.writeBack()
  assert.deepEqual(r.calls, ['get x-route', 'get x-none', 'status 200', 'set x-added', 'remove x-route'])
  assert.deepEqual(r.headers, { 'content-type': 'text/plain', 'content-length': 5, etag: '"a"', 'x-added': 'yes' })
})

test('nothing changed: writeBack does not touch the reply', () => {
  const r = reply()
  const state = new LiveResponse(access, r, 200, undefined)
  state.header('x-route')
  state.writeBack()
  assert.deepEqual(r.calls, ['get x-route'])
})

test('names take the whole list once, with the edits made so far; later edits go to it and writeBack compares', () => {
  const r = reply()
  const state = new LiveResponse(access, r, 200, undefined)
  state.edit('x-early', '1')
  state.edit('etag', undefined)
  assert.deepEqual(Object.keys(state.headers).sort(), ['content-length', 'content-type', 'x-early', 'x-route'])
  state.edit('x-late', '2')
  assert.equal(state.header('x-early'), '1')
  assert.deepEqual(r.calls, ['all'], 'one copy, then reads answer from it')
  state.writeBack()
  assert.deepEqual(r.headers, { 'content-type': 'text/plain', 'content-length': 5, 'x-route': '1', 'x-early': '1', 'x-late': '2' })
})

test('a replaced reply: status, every header and the body are the local response\'s', () => {
  const r = reply()
  const state = new LiveResponse(access, r, 200, undefined)
  const ex = new Exchange({ id: 'r1', method: 'GET', url: '/', headers: {}, remoteAddress: '', log: silent })
  ex.response = state
  replaceResponse(ex, { status: 403, headers: { 'content-type': 'application/json' }, body: '{}' })
  assert.equal(state.bodyChanged, true)
  assert.deepEqual(state.body, Buffer.from('{}'))
  state.writeBack()
  assert.equal(r.status, 403)
  assert.deepEqual(r.headers, { 'content-type': 'application/json' })
})

test('a new body drops an etag the filters did not set (it described the old body); one they set stays', () => {
  const r = reply()
  const state = new LiveResponse(access, r, 200, Buffer.from('hello'))
  state.body = Buffer.from('HELLO')
  state.bodyChanged = true
  state.edit('content-length', undefined)
  state.writeBack()
  assert.equal(r.headers.etag, undefined)
  assert.equal(r.headers['content-length'], undefined)

  const kept = reply()
  const own = new LiveResponse(access, kept, 200, Buffer.from('hello'))
  own.bodyChanged = true
  own.edit('etag', '"b"')
  own.writeBack()
  assert.equal(kept.headers.etag, '"b"')
})

test('the request context on a reply it reads lazily: the same outcomes, one framework read per header', () => {
  const r = reply()
  const ex = new Exchange({ id: 'r1', method: 'GET', url: '/', headers: {}, remoteAddress: '', log: silent })
  ex.response = new LiveResponse(access, r, 200, undefined)
  const call = new FilterCall()
  call.begin(ex, 'response', false)
  assert.equal(call.header(HeaderMap.Response, 'content-length'), '5', 'numbers read as text')
  assert.deepEqual(call.headerValues(HeaderMap.Response, 'x-route'), ['1'])
  assert.equal(call.header(HeaderMap.Response, 'x-none'), NOT_FOUND)
  assert.equal(call.removeHeader(HeaderMap.Response, 'x-none'), NOT_FOUND)
  assert.equal(call.setHeader(HeaderMap.Response, 'x-id', 'a', false), 0)
  assert.equal(call.setHeader(HeaderMap.Response, 'x-id', 'b', true), 0)
  assert.equal(call.header(HeaderMap.Response, 'x-id'), 'a, b')
  assert.equal(call.setHeader(HeaderMap.Response, 'set-cookie', 'c=1', true), 0)
  assert.equal(call.setHeader(HeaderMap.Response, 'set-cookie', 'd=2', true), 0)
  assert.deepEqual(call.headerValues(HeaderMap.Response, 'set-cookie'), ['c=1', 'd=2'], 'set-cookie stays a list')
  assert.equal(call.setStatus(404), 0)
  assert.ok(!r.calls.includes('all'), 'no copy of the whole list')
  call.end()
  ;(ex.response as LiveResponse<FakeReply>).writeBack()
  assert.equal(r.status, 404)
  assert.equal(r.headers['x-id'], 'a, b')
  assert.deepEqual(r.headers['set-cookie'], ['c=1', 'd=2'])
})

test('a plain { status, headers, body } on the Exchange is a reply whose every header is given, changed in place', () => {
  const ex = new Exchange({ id: 'r1', method: 'GET', url: '/', headers: {}, remoteAddress: '', log: silent })
  const headers: ResponseHeaders = { 'x-a': '1', 'x-b': '2' }
  ex.response = { status: 200, headers, body: undefined, changed: false, bodyChanged: false }
  const call = new FilterCall()
  call.begin(ex, 'response', false)
  assert.equal(call.header(HeaderMap.Response, 'constructor'), NOT_FOUND, 'not the object\'s prototype')
  assert.equal(call.setHeader(HeaderMap.Response, 'x-c', '3', false), 0)
  assert.equal(call.removeHeader(HeaderMap.Response, 'x-a'), 0)
  assert.deepEqual(call.headerNames(HeaderMap.Response), ['x-b', 'x-c'])
  assert.deepEqual(headers, { 'x-b': '2', 'x-c': '3' })
  assert.equal(ex.response.changed, true)
})
