// A filter could set a header value that passed Wafer's CR/LF/NUL check but that Node.js
// refuses to write (a non-Latin-1 character, a control character, invalid UTF-8 decoded to
// U+FFFD): the client got an uncoded `500 ERR_INVALID_CHAR` naming no filter, and fail-open
// did not help. Invalid UTF-8 in a local-response body was sent as U+FFFD. Now every filter
// write is checked against RFC 9110's field syntax and UTF-8 before it is applied, and a
// violation is the filter's WAFER_ERR_ABI_BAD_OUTPUT under its failure policy, on both adapters.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import express from 'express'
import Fastify from 'fastify'
import wafer from '@wafer/fastify'
import { wafer as waferExpress } from '@wafer/express'
import { captureLogger, fixture, type LogLine } from '../support/index.ts'
import { listen } from '../../packages/express/test/support/app.ts'

type Policy = 'fail-closed' | 'fail-open'

/**
 * The variants of test/fixtures/guests/bad-field-output.wat, by config, and what the log must say.
 * Native ABI v2 passes header values as bytes 0x00-0xFF, so a character above U+00FF cannot be
 * written; what a filter can still get wrong is a control byte, a name that is not a token, and
 * a local-response body that is not UTF-8.
 */
const BAD: Array<[variant: number, what: string, logged: RegExp]> = [
  [1, 'a local-response header with NUL', /the value of header "x-nul" contains the control character U\+0000/],
  [2, 'a local-response header with a control character', /the value of header "x-ctl" contains the control character U\+0001/],
  [3, 'a request header with CR LF', /the value of header "x-bad" contains the control character U\+000D/],
  [4, 'a RESPONSE_ADD header with LF', /the value of header "x-snow" contains the control character U\+000A/],
  [5, 'a local-response body that is not UTF-8', /body is not valid UTF-8/],
  [6, 'a request header with DEL', /the value of header "x-ctl" contains the control character U\+007F/],
  [7, 'a local-response body with a UTF-8-encoded lone surrogate', /body is not valid UTF-8/],
  [9, 'a header name that is not a token', /header name "x bad" is not an HTTP token/]
]

function filters (variant: number, failurePolicy: Policy) {
  return { out: { module: fixture('bad-field-output'), config: variant, failurePolicy } }
}

const route = (headers: Record<string, unknown>) => ({ route: true, latin: headers['x-latin'] ?? null, ctl: headers['x-ctl'] ?? null, bad: headers['x-bad'] ?? null, evil: headers['x-evil'] ?? null })

async function fastifyServer (_t: test.TestContext, variant: number, policy: Policy) {
  const log = captureLogger('info')
  const app = Fastify({ loggerInstance: log.logger })
  await app.register(wafer, { filters: filters(variant, policy), chain: ['out'] })
  app.get('/r', async (req) => route(req.headers))
  const base = await app.listen({ port: 0, host: '127.0.0.1' })
  return { base, lines: log.lines, close: () => app.close() }
}

async function expressServer (t: test.TestContext, variant: number, policy: Policy) {
  const log = captureLogger('info')
  const app = express()
  const mw = waferExpress({ filters: filters(variant, policy), chain: ['out'], logger: log.logger })
  app.use(mw)
  app.get('/r', (req, res) => { res.json(route(req.headers)) })
  const base = await listen(t, app)
  await mw.ready
  return { base, lines: log.lines, close: () => mw.close() }
}

const adapters = { fastify: fastifyServer, express: expressServer } as const

function loggedError (lines: LogLine[]): string {
  const line = lines.find((l) => l.filter === 'out' && (l.err as { code?: string } | undefined)?.code === 'WAFER_ERR_ABI_BAD_OUTPUT')
  assert.ok(line, 'the failure is logged with its code and the filter')
  return (line.err as { message: string }).message
}

for (const [name, start] of Object.entries(adapters)) {
  test(`${name}: every invalid field or text is the filter's coded failure, never an uncoded 500`, async (t) => {
    for (const [variant, what, logged] of BAD) {
      const closed = await start(t, variant, 'fail-closed')
      const res = await fetch(`${closed.base}/r`)
      const body = await res.json() as Record<string, unknown>
      assert.equal(res.status, 503, `${what}: fail-closed answers 503`)
      assert.deepEqual([body.code, body.filter, body.reason], ['WAFER_ERR_ABI_BAD_OUTPUT', 'out', 'abi'], what)
      assert.match(loggedError(closed.lines), logged, what)
      assert.match(loggedError(closed.lines), /Filter "out"/, `${what}: the message names the filter`)
      await closed.close()

      const open = await start(t, variant, 'fail-open')
      const passed = await fetch(`${open.base}/r`)
      assert.equal(passed.status, 200, `${what}: fail-open skips the filter and the route answers`)
      assert.deepEqual(await passed.json(), { route: true, latin: null, ctl: null, bad: null, evil: null }, `${what}: nothing of the refused write was applied`)
      assert.equal(passed.headers.get('x-snow'), null)
      assert.equal(passed.headers.get('x-nul'), null)
      loggedError(open.lines)
      await open.close()
    }
  })

  test(`${name}: obs-text (the byte 0xE9) is a valid field value and reaches the route as é`, async (t) => {
    const server = await start(t, 8, 'fail-closed')
    const res = await fetch(`${server.base}/r`)
    assert.equal(res.status, 200)
    assert.equal((await res.json() as { latin: string }).latin, 'caf\u00e9')
    await server.close()
  })
}
