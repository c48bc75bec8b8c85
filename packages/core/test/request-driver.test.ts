// Core's request driver (http/request-driver.ts) with real filters and a recording stand-in for
// a framework: what it asks the adapter to do, in which order, and that a request's end
// finishes every chain run and leaves its generation exactly once.
import assert from 'node:assert/strict'
import { EventEmitter } from 'node:events'
import { test } from 'node:test'
import {
  createWafer, DrivenExchange, RequestDriver, RequestHold, requestTarget, type Chain, type ExchangeInit, type RequestIO, type ResponseIO,
  type ResponseHeaders, type Wafer
} from '../src/index.ts'
import { fixture, silent } from '../../../test/support/index.ts'

class Run extends DrivenExchange {
  calls: string[] = []
  read = false
  /** The adapter cannot apply a rewrite (Express: outside the router's mount path); it answered. */
  refuseSync = false
}

function init (url = '/a', headers: ExchangeInit['headers'] = {}): ExchangeInit {
  return { id: 'r1', method: 'POST', url, headers, remoteAddress: '127.0.0.1', log: silent }
}

/** Records each call; reads the body the test put in `body` when asked. */
function recordingIO (body?: Buffer): RequestIO<Run> {
  return {
    addResponseHeaders: (run, headers) => { run.calls.push(`add ${JSON.stringify(headers)}`) },
    sendLocal: (run, response) => { run.calls.push(`local ${response.status}`) },
    reset: (run) => { run.calls.push('reset') },
    syncUrl: (run) => { run.calls.push(`sync ${run.url}`); return !run.refuseSync },
    headDone: (run, driver) => { run.calls.push('head'); driver.body(run) },
    readBody: (run, driver) => { run.calls.push('read'); run.read = true; driver.withBody(run, body ?? Buffer.alloc(0)) },
    proceed: (run) => { run.calls.push(`proceed${run.body === undefined ? '' : ` ${run.body.toString()}`}`) },
    fail: (run, err) => { run.calls.push(`fail ${(err as Error).message}`) }
  }
}

async function runtime (): Promise<Wafer> {
  return createWafer({
    logger: silent,
    filters: {
      add: { module: fixture('tag'), config: { name: 'A', responseHeaders: { 'x-seen-by': 'tag' } } },
      deny: { module: fixture('deny') },
      rewrite: { module: fixture('rewrite-path') },
      upper: { module: fixture('body-upper') },
      stamp: { module: fixture('stamp') },
      closer: { module: fixture('proxy-close-stream') }
    }
  })
}

/** Runs `names` as one request through the driver; resolves once it settled (the filters here never wait). */
function drive (w: Wafer, names: string[], exchange = init(), body?: Buffer, refuseSync = false): Run {
  const hold = new RequestHold(w)
  const run = new Run(exchange, hold.generation.chain(names), hold)
  run.refuseSync = refuseSync
  new RequestDriver(recordingIO(body)).start(run)
  return run
}

test('a local response: the request phase\'s response headers first, then the answer; the route is not reached', async (t) => {
  const w = await runtime()
  t.after(() => w.close())
  const run = drive(w, ['add', 'deny', 'stamp'])
  assert.deepEqual(run.calls, ['add {"x-seen-by":"tag"}', 'local 403'])
  assert.equal(run.responseHeaders, undefined, 'handed over once')
})

test('a closed stream: the adapter resets the request, after the request phase\'s response headers; no later filter runs, nothing is answered', async (t) => {
  const w = await runtime()
  t.after(() => w.close())
  const run = drive(w, ['add', 'closer', 'stamp'], init('/a', { 'x-close': 'request' }))
  assert.deepEqual(run.calls, ['add {"x-seen-by":"tag"}', 'reset'])
  assert.equal(run.closed, true)
  assert.equal(run.headers['x-stamp'], undefined, 'the filter after it did not run')
})

test('a stream closed in the response phase: the adapter hears closed, not responded, and nothing is written back', async (t) => {
  const w = await runtime()
  t.after(() => w.close())
  const events: string[] = []
  const response: ResponseIO<Run> = {
    reply: {
      header: () => undefined,
      headers: () => ({}),
      setHeader: (_run, name) => { events.push(`set ${name}`) },
      removeHeader: (_run, name) => { events.push(`remove ${name}`) },
      setStatus: (_run, status) => { events.push(`status ${status}`) }
    },
    responded: () => { events.push('responded') },
    responseFailed: (_run, err) => { events.push(`failed ${(err as Error).message}`) },
    closed: (run) => { events.push(`closed ${String(run.closed)}`) }
  }
  const hold = new RequestHold(w)
  const run = new Run(init('/a', { 'x-close': 'response' }), hold.generation.chain(['stamp', 'closer']), hold)
  const driver = new RequestDriver(recordingIO(), response)
  driver.start(run)
  assert.deepEqual(run.calls, ['head', 'proceed'])
  driver.respond(run, 200, undefined)
  assert.deepEqual(events, ['closed true'], 'the stamp filter before it did not run; no write-back')
  hold.release()
})

test('a rewritten target is synced before the request goes on, and its flags cleared; a refused sync stops it', async (t) => {
  const w = await runtime()
  t.after(() => w.close())
  const run = drive(w, ['rewrite'])
  assert.deepEqual(run.calls, ['sync /rewritten?q=1', 'head', 'proceed'])
  assert.equal(run.pathChanged || run.queryChanged, false)
  const refused = drive(w, ['rewrite', 'upper'], init(), undefined, true)
  assert.deepEqual(refused.calls, ['sync /rewritten?q=1'], 'the adapter answered: nothing else runs')
})

test('the body filters run after the head: on the body read when there is one, at once when there is none', async (t) => {
  const w = await runtime()
  t.after(() => w.close())
  const withBody = drive(w, ['stamp', 'upper'], init('/a', { 'content-length': '5' }), Buffer.from('hello'))
  assert.deepEqual(withBody.calls, ['head', 'read', 'proceed HELLO'])
  assert.equal(withBody.headers['x-stamp'], 'a', 'the head ran first')
  const without = drive(w, ['stamp', 'upper'], init('/a', {}))
  assert.deepEqual(without.calls, ['head', 'proceed'], 'no body, no read')
  const none = drive(w, ['stamp'], init('/a', { 'content-length': '5' }))
  assert.deepEqual(none.calls, ['head', 'proceed'], 'no body filter, no read')
})

test('the response phase: the reply read and changed through the adapter\'s access, then responded', async (t) => {
  const w = await runtime()
  t.after(() => w.close())
  const headers: ResponseHeaders = { 'content-type': 'text/plain' }
  const events: string[] = []
  const response: ResponseIO<Run> = {
    reply: {
      header: (_run, name) => headers[name],
      headers: () => { events.push('all'); return { ...headers } },
      setHeader: (_run, name, value) => { headers[name] = value },
      removeHeader: (_run, name) => { headers[name] = undefined },
      setStatus: (_run, status) => { events.push(`status ${status}`) }
    },
    responded: (run) => { events.push(`responded ${String(run.response?.changed)}`) },
    responseFailed: (_run, err) => { events.push(`failed ${(err as Error).message}`) },
    closed: () => { events.push('closed') }
  }
  const hold = new RequestHold(w)
  const run = new Run(init(), hold.generation.chain(['stamp']), hold)
  const driver = new RequestDriver(recordingIO(), response)
  driver.start(run)
  assert.equal(driver.responseNeeds(run), 'headers')
  driver.respond(run, 200, undefined)
  assert.deepEqual(events, ['status 200', 'responded true'], 'no copy of every header')
  assert.equal(headers['x-stamped'], 'a')

  const broken = new Run(init(), { ...run.chain, runResponse: () => { throw new Error('bug') } } as unknown as Chain, hold)
  driver.respond(broken, 200, undefined)
  assert.equal(events.at(-1), 'failed bug', 'a fault in Wafer goes to the adapter, not up its stack')
})

test('a hold: entered once, and on the response\'s close every run is finished and the generation left, once', async (t) => {
  const w = await runtime()
  t.after(() => w.close())
  const res = new EventEmitter()
  const hold = new RequestHold(w)
  hold.watch(res)
  assert.equal(hold.generation.inflight, 1)
  const chain = hold.generation.chain(['stamp'])
  const other = hold.generation.chain(['add'])
  const finished: string[] = []
  const spy = (c: Chain, name: string): void => { c.finish = () => { finished.push(name) } }
  spy(chain, 'stamp')
  spy(other, 'add')
  t.after(() => { Reflect.deleteProperty(chain, 'finish'); Reflect.deleteProperty(other, 'finish') })
  new Run(init(), chain, hold)
  new Run(init(), other, hold)
  res.emit('close')
  res.emit('close')
  hold.release()
  assert.deepEqual(finished, ['stamp', 'add'])
  assert.equal(hold.generation.inflight, 0)
  new Run(init(), chain, hold)
  assert.deepEqual(finished, ['stamp', 'add', 'stamp'], 'a run that starts after the close is finished at once')
  assert.equal(res.listenerCount('close'), 1, 'one shared listener')
})

test('requestTarget: the normal form, or the coded 400 quoting at most 200 characters', () => {
  assert.equal(requestTarget('/a/%7Eb?x=1'), '/a/~b?x=1')
  assert.equal(requestTarget('http://h/p?q'), '/p?q')
  const refused = requestTarget(`/a/../${'x'.repeat(300)}`)
  assert.ok(typeof refused !== 'string')
  assert.equal(refused.code, 'WAFER_ERR_BAD_REQUEST_TARGET')
  assert.equal(refused.statusCode, 400)
  assert.match(refused.message, /x{194}\.\.\." is refused before any filter runs: the path may not contain "\." or "\.\." segments/)
})
