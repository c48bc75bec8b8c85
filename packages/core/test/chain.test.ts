import assert from 'node:assert/strict'
import { test } from 'node:test'
import { CONTINUE, createWafer, Exchange } from '../src/index.ts'
import { fixture, silent } from '../../../test/support/index.ts'

const tag = (name: string) => ({ module: fixture('tag'), config: { name } })

async function wafer () {
  return createWafer({ logger: silent, filters: { a: tag('A'), b: tag('B'), c: tag('C'), deny: { module: fixture('deny') } } })
}

function exchange (): Exchange {
  return new Exchange({ id: 'r', method: 'GET', url: '/', headers: {}, remoteAddress: '127.0.0.1', log: silent })
}

test('request filters run in declared order, each seeing what the previous one changed', async () => {
  const w = await wafer()
  const ex = exchange()
  assert.equal(w.compose(['a', 'b', 'c']).runRequest(ex), CONTINUE)
  assert.equal(ex.headers['x-order'], 'A,B,C')
  const other = exchange()
  w.compose(['c', 'a']).runRequest(other)
  assert.equal(other.headers['x-order'], 'C,A')
  await w.close()
})

test('response filters run in reverse order', async () => {
  const w = await wafer()
  const chain = w.compose(['a', 'b', 'c'])
  const ex = exchange()
  chain.runRequest(ex)
  ex.response = { status: 200, headers: {}, body: undefined, changed: false, bodyChanged: false }
  await chain.runResponse(ex)
  assert.equal(ex.response.headers['x-order'], 'C,B,A')
  await w.close()
})

test('a respond stops the request phase; only the filters before it see the response', async () => {
  const w = await wafer()
  const chain = w.compose(['a', 'b', 'deny', 'c'])
  const ex = exchange()
  const d = chain.runRequest(ex)
  assert.ok(!(d instanceof Promise) && d.respond && d.response?.status === 403)
  assert.equal(ex.headers['x-order'], 'A,B', 'c never ran')
  assert.equal(ex.reached, 2)
  ex.response = { status: 403, headers: {}, body: undefined, changed: false, bodyChanged: false }
  await chain.runResponse(ex)
  assert.equal(ex.response.headers['x-order'], 'B,A')
  await w.close()
})

test('a phase the filter reports as a no-op for its configuration is never called', async () => {
  const w = await createWafer({
    logger: silent,
    filters: { req: { module: fixture('tag'), config: { name: 'Q', phases: 'request' } }, res: { module: fixture('tag'), config: { name: 'S', phases: 'response' } } }
  })
  assert.deepEqual(w.filter('req')?.status().needs, { requestBody: false, responseBody: false, skipRequestPhase: false, skipResponsePhase: true })
  assert.deepEqual(w.filter('res')?.status().needs, { requestBody: false, responseBody: false, skipRequestPhase: true, skipResponsePhase: false })
  const onlyRequest = w.compose(['req'])
  assert.equal(onlyRequest.hasResponsePhase, false)
  assert.equal(onlyRequest.responsePhaseFor(1), 'none')
  const chain = w.compose(['res', 'req'])
  const ex = exchange()
  chain.runRequest(ex)
  assert.equal(ex.headers['x-order'], 'Q', 'the response-only filter skipped its request phase')
  ex.response = { status: 200, headers: {}, body: undefined, changed: false, bodyChanged: false }
  await chain.runResponse(ex)
  assert.equal(ex.response.headers['x-order'], 'S', 'the request-only filter skipped its response phase')
  assert.equal(w.filter('req')?.status().calls, 1)
  assert.equal(w.filter('res')?.status().calls, 1)
  await w.close()
})

test('response headers set in the request phase accumulate on the exchange for the adapter', async () => {
  const w = await createWafer({
    logger: silent,
    filters: { a: { module: fixture('tag'), config: { name: 'A', responseHeaders: { 'x-from-a': 'a', 'x-both': 'a' } } }, b: { module: fixture('tag'), config: { name: 'B', responseHeaders: { 'x-both': 'b' } } } }
  })
  const ex = exchange()
  w.compose(['a', 'b']).runRequest(ex)
  assert.deepEqual(ex.responseHeaders, { 'x-from-a': 'a', 'x-both': 'b' })
  assert.equal(ex.headers['x-from-a'], undefined)
  await w.close()
})

test('the body boundary: filters before the first body filter form the header-only prefix', async () => {
  const w = await createWafer({ logger: silent, filters: { a: tag('A'), body: { module: fixture('body-upper') }, c: tag('C') } })
  const chain = w.compose(['a', 'body', 'c'])
  assert.equal(chain.bodyStart, 1)
  assert.equal(w.compose(['a', 'c']).bodyStart, 2, 'no body filter: the whole chain is header-only')
  assert.equal(w.filter('body')?.needs.requestBody, true)
  assert.equal(w.filter('a')?.needs.requestBody, false)
  const ex = exchange()
  assert.equal(chain.runRequest(ex, 0, chain.bodyStart), CONTINUE)
  assert.equal(ex.headers['x-order'], 'A')
  ex.body = Buffer.from('hello')
  assert.equal(chain.runRequest(ex, chain.bodyStart), CONTINUE)
  assert.equal(ex.headers['x-order'], 'A,C')
  assert.equal(ex.body?.toString(), 'HELLO')
  assert.equal(ex.headers['x-body'], '5')
  await w.close()
})

test('filter decisions are logged at debug level, and not built at all above it', async () => {
  const { captureLogger } = await import('../../../test/support/index.ts')
  for (const level of ['debug', 'info']) {
    const { logger, lines } = captureLogger(level)
    const w = await createWafer({ logger, filters: { a: tag('A'), deny: { module: fixture('deny') } } })
    const ex = new Exchange({ id: 'r', method: 'GET', url: '/', headers: {}, remoteAddress: '127.0.0.1', log: logger })
    w.compose(['a', 'deny']).runRequest(ex)
    const decisions = lines.filter((l) => l.decision !== undefined).map((l) => l.msg)
    assert.deepEqual(decisions, level === 'debug' ? ['filter "a" continued', 'filter "deny" responded 403'] : [])
    await w.close()
  }
})
