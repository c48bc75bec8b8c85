// The per-request filter context (docs/abi.md section 8): an ABI that binds an instance to a
// request gets begin -> phases -> done on one instance, done exactly once per request that
// entered the filter, whatever ended it; the chain's finish() is what the adapters call.
import assert from 'node:assert/strict'
import { EventEmitter } from 'node:events'
import { test } from 'node:test'
import { CONTINUE, createWafer, DrivenExchange, Exchange, RequestHold, type Chain, type Decision, type Filter, type WaferDefinition } from '../src/index.ts'
import { captureLogger, fixture, silent } from '../../../test/support/index.ts'
import { guest, usePerRequestAbi, type PerRequestAbi } from './support/per-request-abi.ts'

type T = Parameters<typeof usePerRequestAbi>[0]

function exchange (id: string, mode?: string): Exchange {
  return new Exchange({ id, method: 'GET', url: '/', headers: mode === undefined ? {} : { 'x-mode': mode }, remoteAddress: '127.0.0.1', log: silent })
}

interface Setup extends PerRequestAbi {
  chain: Chain
  filter: Filter
  busy: () => number
}

/** A native filter, then the per-request one: `noop -> p`. */
async function setup (t: T, p: Partial<WaferDefinition['filters'][string]> = {}, logger = silent): Promise<Setup> {
  const abi = usePerRequestAbi(t)
  const w = await createWafer({ logger, filters: { noop: { module: fixture('noop') }, p: { module: await guest(), limits: { fuel: false }, ...p } } })
  t.after(async () => { await w.close() })
  const filter = w.filter('p') as Filter
  return { ...abi, chain: w.compose(['noop', 'p']), filter, busy: () => filter.status().pool.busy }
}

/** What an adapter does once the route (or a filter) answered: the response phase of the filters the request passed. */
function reply (chain: Chain, ex: Exchange): void | Promise<void> {
  if (chain.responsePhaseFor(ex.reached) === 'none') return
  ex.response = { status: 200, headers: {}, body: undefined, changed: false, bodyChanged: false }
  return chain.runResponse(ex)
}

const sync = (d: Decision | Promise<Decision>): Decision => {
  assert.ok(!(d instanceof Promise), 'expected a synchronous decision')
  return d
}

test('a per-request filter keeps one instance from begin through both phases to done, and the pool gets it back after done', async (t) => {
  const s = await setup(t)
  assert.equal(s.filter.perRequest, true)
  assert.equal(s.filter.status().abi, 'test-per-request/1')
  const ex = exchange('7')
  assert.equal(s.chain.runRequest(ex), CONTINUE)
  assert.equal(s.busy(), 1, 'held between the phases')
  await reply(s.chain, ex)
  assert.equal(s.busy(), 1, 'still held after the response phase: the request is not over')
  assert.deepEqual(s.events, ['1:begin:7', '1:request(continue):7', '1:response(holds 7):7'], 'the guest still holds the request it began')
  s.chain.finish(ex)
  assert.deepEqual(s.events.slice(3), ['1:done:7'])
  assert.deepEqual([s.filter.status().pool.busy, s.filter.status().pool.idle], [0, 1])
  s.chain.finish(ex)
  assert.equal(s.events.length, 4, 'a second finish does nothing')

  const next = exchange('8')
  s.chain.runRequest(next)
  await reply(s.chain, next)
  s.chain.finish(next)
  assert.deepEqual(s.events.slice(4), ['1:begin:8', '1:request(continue):8', '1:response(holds 8):8', '1:done:8'], 'the same instance serves the next request')
  assert.equal(s.filter.status().pool.created, 1)
})

test('a local response from the request phase: no response phase for the filter, done when the request finishes', async (t) => {
  const s = await setup(t)
  const ex = exchange('1', 'respond')
  const d = sync(s.chain.runRequest(ex))
  assert.ok(d.respond && d.response?.status === 403)
  await reply(s.chain, ex)
  assert.equal(s.busy(), 1)
  s.chain.finish(ex)
  assert.deepEqual(s.events, ['1:begin:1', '1:request(respond):1', '1:done:1'])
  assert.equal(s.busy(), 0)
})

test('a failure under fail-closed: the 503 goes out, the instance stays bound and is done with once', async (t) => {
  const s = await setup(t)
  const ex = exchange('1', 'fail')
  const d = sync(s.chain.runRequest(ex))
  assert.ok(d.respond)
  assert.equal(d.response?.status, 503)
  assert.equal(JSON.parse(d.response?.body as string).code, 'WAFER_ERR_STATE')
  await reply(s.chain, ex)
  s.chain.finish(ex)
  assert.deepEqual(s.events, ['1:begin:1', '1:request(fail):1', '1:done:1'])
  assert.deepEqual([s.busy(), s.filter.status().pool.discarded], [0, 0], 'a healthy instance goes back to the pool')
})

test('a failure under fail-open: the request goes on, the response phase runs on the same instance, done once', async (t) => {
  const s = await setup(t, { failurePolicy: 'fail-open' })
  const ex = exchange('1', 'fail')
  assert.equal(s.chain.runRequest(ex), CONTINUE)
  await reply(s.chain, ex)
  s.chain.finish(ex)
  assert.deepEqual(s.events, ['1:begin:1', '1:request(fail):1', '1:response(holds 1):1', '1:done:1'])
  assert.equal(s.busy(), 0)
})

test('a trap ends the filter context at once: done without entering the guest, the instance discarded, not pooled', async (t) => {
  for (const failurePolicy of ['fail-closed', 'fail-open'] as const) await t.test(failurePolicy, async (t) => {
    const s = await setup(t, { failurePolicy })
    const ex = exchange('1', 'trap')
    const d = sync(s.chain.runRequest(ex))
    assert.equal(d.respond, failurePolicy === 'fail-closed')
    if (d.respond) assert.equal(JSON.parse(d.response?.body as string).code, 'WAFER_ERR_FILTER_TRAP')
    assert.deepEqual(s.events, ['1:begin:1', '1:request(trap):1', '1:done(unhealthy):1'], failurePolicy)
    assert.deepEqual([s.busy(), s.filter.status().pool.discarded], [0, 1], 'discarded before the request finished')
    await reply(s.chain, ex)
    s.chain.finish(ex)
    assert.equal(s.events.length, 3, `${failurePolicy}: no response phase and no second done for the trapped context`)

    const next = exchange('2')
    s.chain.runRequest(next)
    s.chain.finish(next)
    assert.deepEqual(s.events.slice(3), ['2:begin:2', '2:request(continue):2', '2:done:2'], 'a new instance serves the next request')
  })
})

test('finish while a phase waits: done runs after the phase settles, not during it', async (t) => {
  const s = await setup(t)
  const ex = exchange('1', 'pause')
  const pending = s.chain.runRequest(ex)
  assert.ok(pending instanceof Promise)
  s.chain.finish(ex)
  assert.deepEqual(s.events, ['1:begin:1', '1:request(pause):1'], 'the client went away mid-phase: the guest is not ended under it')
  assert.equal(s.busy(), 1)
  s.resume()
  assert.equal(await pending, CONTINUE)
  assert.deepEqual(s.events.slice(2), ['1:resumed:1', '1:done:1'])
  assert.equal(s.busy(), 0)
})

test('a request finished before the filter ran (an async chain going on after the client left): the instance serves one phase', async (t) => {
  const s = await setup(t)
  const ex = exchange('1')
  s.chain.finish(ex)
  assert.equal(s.chain.runRequest(ex), CONTINUE)
  assert.deepEqual(s.events, ['1:begin:1', '1:request(continue):1', '1:done:1'])
  assert.equal(s.busy(), 0, 'nothing stays bound to a finished request')
})

test('without a chain (Filter.request alone), a per-request filter is bound for that one phase', async (t) => {
  const s = await setup(t)
  assert.equal(s.filter.request(exchange('1')), CONTINUE)
  assert.deepEqual(s.events, ['1:begin:1', '1:request(continue):1', '1:done:1'])
  assert.equal(s.busy(), 0)
})

test('done that traps is logged with the filter\'s name; finish does not throw, the instance is discarded', async (t) => {
  const { logger, lines } = captureLogger()
  const s = await setup(t, {}, logger)
  const ex = new Exchange({ id: '13', method: 'GET', url: '/', headers: {}, remoteAddress: '127.0.0.1', log: logger })
  s.chain.runRequest(ex)
  s.chain.finish(ex)
  assert.deepEqual(s.events, ['1:begin:13', '1:request(continue):13', '1:done:13'])
  const line = lines.find((l) => l.level === 50 && l.filter === 'p')
  assert.match(line?.msg ?? '', /filter "p" failed ending a request/)
  assert.equal((line?.err as { code?: string } | undefined)?.code, 'WAFER_ERR_FILTER_TRAP')
  assert.deepEqual([s.busy(), s.filter.status().pool.discarded, s.filter.status().failures], [0, 1, 1])
})

test('a reload that closes the filter while a request holds an instance lets that request finish on it', async (t) => {
  t.mock.timers.enable({ apis: ['setTimeout'] })
  const abi = usePerRequestAbi(t)
  const bytes = await guest()
  const def = (config: unknown): WaferDefinition => ({ filters: { p: { module: bytes, limits: { fuel: false }, config } }, chains: { main: ['p'] } })
  const w = await createWafer({ logger: silent, drainTimeoutMs: 1000, ...def({ v: 1 }) })
  t.after(async () => { await w.close() })
  const old = w.filter('p') as Filter
  const generation = w.enter()
  const chain = generation.chain('main')
  const ex = exchange('1')
  chain.runRequest(ex)
  await w.reload(def({ v: 2 }))
  t.mock.timers.tick(1000)
  assert.equal(old.state, 'closed', 'the drain timeout closed the old filter')
  await reply(chain, ex)
  assert.deepEqual(abi.events, ['1:begin:1', '1:request(continue):1', '1:response(holds 1):1'], 'the response phase ran on the bound instance')
  chain.finish(ex)
  generation.leave()
  assert.deepEqual(abi.events.slice(3), ['1:done:1'])
  assert.deepEqual([old.status().pool.size, old.status().pool.busy, old.status().pool.discarded], [0, 0, 1], 'released into a closed pool: dropped')

  // A request that had not reached the closed filter cannot bind to it.
  const late = exchange('2')
  const d = sync(chain.runRequest(late))
  assert.ok(d.respond)
  assert.equal(JSON.parse(d.response?.body as string).code, 'WAFER_ERR_FILTER_CLOSED')
  chain.finish(late)
  assert.equal(abi.events.length, 4)
})

test('a chain of per-phase filters releases after every phase: finish has nothing to do', async (t) => {
  const w = await createWafer({ logger: silent, filters: { s: { module: fixture('v2-stamp') } } })
  t.after(async () => { await w.close() })
  const filter = w.filter('s') as Filter
  assert.equal(filter.perRequest, false)
  const chain = w.compose(['s'])
  const ex = exchange('1')
  chain.runRequest(ex)
  assert.equal(filter.status().pool.busy, 0, 'released after the request phase')
  await reply(chain, ex)
  chain.finish(ex)
  assert.deepEqual(Object.getOwnPropertySymbols(ex), [], 'nothing was kept on the request')
})

test('through the adapters\' request driver: done runs once when the response closes, also when the client left mid-phase', async (t) => {
  const abi = usePerRequestAbi(t)
  const w = await createWafer({ logger: silent, filters: { p: { module: await guest(), limits: { fuel: false } } }, chains: { main: ['p'] } })
  t.after(async () => { await w.close() })
  const filter = w.filter('p') as Filter
  const drive = (id: string, mode?: string): { run: DrivenExchange, res: EventEmitter, hold: RequestHold } => {
    const res = new EventEmitter()
    const hold = new RequestHold(w)
    hold.watch(res)
    const run = new DrivenExchange({ id, method: 'GET', url: '/', headers: mode === undefined ? {} : { 'x-mode': mode }, remoteAddress: '127.0.0.1', log: silent }, hold.generation.chain('main'), hold)
    return { run, res, hold }
  }

  const done = drive('1')
  assert.equal(done.run.chain.runRequest(done.run), CONTINUE)
  await reply(done.run.chain, done.run)
  assert.equal(filter.status().pool.busy, 1)
  done.res.emit('close')
  done.res.emit('close')
  assert.deepEqual(abi.events, ['1:begin:1', '1:request(continue):1', '1:response(holds 1):1', '1:done:1'])
  assert.deepEqual([filter.status().pool.busy, w.generation.inflight], [0, 0])

  const gone = drive('2', 'pause')
  const pending = gone.run.chain.runRequest(gone.run)
  gone.res.emit('close')
  assert.equal(abi.events.at(-1), '1:request(pause):2', 'not ended under the running phase')
  abi.resume()
  await pending
  assert.deepEqual(abi.events.slice(-2), ['1:resumed:2', '1:done:2'])
  assert.equal(filter.status().pool.busy, 0)
})
