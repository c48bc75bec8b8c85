// The Proxy-Wasm lifecycle as the chain drives it (docs/proxy-wasm.md, "What Wafer calls, and
// when"): a root context per instance, a stream context per request from its first phase to the
// end of the response, proxy_on_done/log/delete once the chain finishes the request, and a
// trapped instance never entered again. The guest logs each callback with its context ids.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { createWafer, Exchange, type Chain, type Filter } from '../src/index.ts'
import { captureLogger, fixture, type LogLine } from '../../../test/support/index.ts'

function exchange (id: string, log: Exchange['log']): Exchange {
  return new Exchange({ id, method: 'GET', url: '/', headers: {}, remoteAddress: '127.0.0.1', log })
}

/** What an adapter does: the request phase, the reply's response phase, then finish when the response closed. */
async function request (chain: Chain, ex: Exchange): Promise<void> {
  await chain.runRequest(ex)
  ex.response = { status: 200, headers: {}, body: undefined, changed: false, bodyChanged: false }
  await chain.runResponse(ex)
  chain.finish(ex)
}

const said = (lines: LogLine[]): string[] => lines.filter((l) => l.filter === 'life' && l.level === 30 && !l.msg.startsWith('filter ')).map((l) => l.msg)

test('root context at load; per request: create, headers callbacks, then done, log, delete after finish', async (t) => {
  const { logger, lines } = captureLogger('info')
  const w = await createWafer({ logger, filters: { life: { module: fixture('proxy-lifecycle'), pool: { min: 1, max: 1 } } } })
  t.after(() => w.close())
  assert.deepEqual(said(lines), ['create 1 0', 'vm_start 1', 'configure 1'], 'the root context is created, then the VM started, then the plugin configured')
  const chain = w.compose(['life'])
  const first = exchange('a', logger)
  await chain.runRequest(first)
  assert.deepEqual(said(lines).slice(3), ['create 2 1', 'request_headers 2'])
  first.response = { status: 200, headers: {}, body: undefined, changed: false, bodyChanged: false }
  await chain.runResponse(first)
  assert.deepEqual(said(lines).slice(5), ['response_headers 2'], 'nothing ends before the response has closed')
  chain.finish(first)
  assert.deepEqual(said(lines).slice(6), ['done 2', 'log 2', 'delete 2'])
  chain.finish(first)
  assert.equal(said(lines).length, 9, 'a second finish does nothing')
})

test('a trap ends the context without entering the guest again; the replacement instance gets its own root context', async (t) => {
  const { logger, lines } = captureLogger('info')
  const w = await createWafer({ logger, filters: { life: { module: fixture('proxy-lifecycle'), pool: { min: 1, max: 1 } } } })
  t.after(() => w.close())
  const chain = w.compose(['life'])
  await request(chain, exchange('a', logger))
  const trapped = exchange('b', logger)
  await chain.runRequest(trapped)
  trapped.response = { status: 200, headers: {}, body: undefined, changed: false, bodyChanged: false }
  await chain.runResponse(trapped)
  assert.equal(trapped.response.status, 503, 'fail-closed replaced the reply')
  assert.equal(JSON.parse(trapped.response.body?.toString() ?? '{}').code, 'WAFER_ERR_FILTER_TRAP')
  chain.finish(trapped)
  const filter = w.filter('life') as Filter
  assert.equal(filter.status().pool.discarded, 1)
  await request(chain, exchange('c', logger))
  assert.deepEqual(said(lines).slice(9), [
    'create 3 1', 'request_headers 3', 'response_headers 3',
    'create 1 0', 'vm_start 1', 'configure 1', 'create 2 1', 'request_headers 2', 'response_headers 2', 'done 2', 'log 2', 'delete 2'
  ], 'no done, log or delete on the trapped instance; a new instance, a new root context')
  assert.equal(filter.status().pool.created, 2)
})
