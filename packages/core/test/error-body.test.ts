// The one JSON error body (http/error-body.ts) every adapter, filter failure and listener uses.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { errorBody, errorReply, errorResponse, failureResponse, WaferError } from '../src/index.ts'

test('the shape is Fastify\'s: statusCode, code, error, message, then anything extra', () => {
  assert.equal(errorBody(413, 'WAFER_ERR_BODY_TOO_LARGE', 'too big'),
    '{"statusCode":413,"code":"WAFER_ERR_BODY_TOO_LARGE","error":"Payload Too Large","message":"too big"}')
  assert.equal(errorBody(400, undefined, 'Client Error'), '{"statusCode":400,"error":"Bad Request","message":"Client Error"}', 'no code: left out')
  assert.deepEqual(JSON.parse(errorBody(503, 'C', 'm', { filter: 'f' })), { statusCode: 503, code: 'C', error: 'Service Unavailable', message: 'm', filter: 'f' })
  assert.equal(JSON.parse(errorBody(599, 'C', 'm')).error, 'Error', 'a status without a reason phrase')
})

test('as a local response: JSON with its charset', () => {
  assert.deepEqual(errorResponse(504, 'C', 'm'), {
    status: 504, headers: { 'content-type': 'application/json; charset=utf-8' }, body: '{"statusCode":504,"code":"C","error":"Gateway Timeout","message":"m"}'
  })
})

test('errorReply: a coded error says which rule was hit; anything else is a 500 WAFER_ERR_INTERNAL without its message', () => {
  const coded = errorReply(new WaferError('WAFER_ERR_BODY_TOO_LARGE', [10]))
  assert.equal(coded.status, 413)
  assert.deepEqual(JSON.parse(coded.body as string), {
    statusCode: 413, code: 'WAFER_ERR_BODY_TOO_LARGE', error: 'Payload Too Large', message: 'The request body exceeds the limit of 10 bytes (bodyLimit)'
  })
  const internal = errorReply(new Error('/secret/path failed'))
  assert.deepEqual(JSON.parse(internal.body as string), { statusCode: 500, code: 'WAFER_ERR_INTERNAL', error: 'Internal Server Error', message: 'Internal Server Error' })
  assert.equal(JSON.parse(errorReply(new Error('x'), 'Told').body as string).message, 'Told')
})

test('a filter failure uses the same body, with the filter and the reason class', () => {
  const response = failureResponse('auth', new WaferError('WAFER_ERR_FILTER_TRAP', ['auth', 'wafer_on_request', 'unreachable']))
  assert.equal(response.status, 503)
  assert.equal(response.body, '{"statusCode":503,"code":"WAFER_ERR_FILTER_TRAP","error":"Service Unavailable","message":"Filter \\"auth\\" failed","filter":"auth","reason":"trap"}')
})
