// The parts of the Proxy-Wasm host that answer outside a callback (docs/proxy-wasm.md: "HTTP
// calls", "Timers", "Shared queues"), tested directly: the host calls' argument checks over a
// real guest memory, the shared-queue registry, the HTTP client against a real local server, the
// pool closing what it drops, and the `upstreams` setting's validation.
import assert from 'node:assert/strict'
import { once } from 'node:events'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { test, type TestContext } from 'node:test'
import { createWafer, resolveConfig } from '../src/index.ts'
import { asyncImports } from '../src/abi/proxy-wasm/async-calls.ts'
import type { Glue } from '../src/abi/proxy-wasm/glue.ts'
import { calloutRequest, Callouts, MAX_OUTSTANDING_CALLS, sendCallout, type CalloutRequest, type CalloutResult } from '../src/abi/proxy-wasm/http-call.ts'
import { serializePairs } from '../src/abi/proxy-wasm/pairs.ts'
import { QUEUE_MAX_LENGTH, SharedQueues, type QueueReceiver } from '../src/abi/proxy-wasm/queues.ts'
import { GuestMemory } from '../src/abi/guest-memory.ts'
import { FilterCall } from '../src/http/request-context.ts'
import { defaultPoolOptions, InstancePool, type Lease } from '../src/runtime/pool.ts'
import { captureLogger, fixture, silent, until, type LogLine } from '../../../test/support/index.ts'

type HostFn = (...args: number[]) => number

interface Harness {
  calls: Record<string, HostFn>
  mem: GuestMemory
  faults: string[]
  started: Array<{ request: CalloutRequest, body: string, timeoutMs: number }>
  ticks: number[]
  /** Writes `bytes` at `at` and returns [at, length]. */
  put: (at: number, bytes: Uint8Array | string) => [number, number]
  u32: (at: number) => number
}

/** asyncImports over a real memory, with a glue that records what it is asked to do. */
function harness (o: { upstreams?: Record<string, string>, vmId?: string, queues?: SharedQueues, lines?: ReturnType<typeof captureLogger>, full?: boolean } = {}): Harness {
  const mem = new GuestMemory()
  mem.attach(new WebAssembly.Memory({ initial: 1 }))
  const faults: string[] = []
  const started: Harness['started'] = []
  const ticks: number[] = []
  let heap = 32768
  const put = (at: number, bytes: Uint8Array | string): [number, number] => {
    const b = typeof bytes === 'string' ? Buffer.from(bytes) : bytes
    mem.view().set(b, at)
    return [at, b.length]
  }
  const write = (ptr: number, value: number): boolean => {
    if (!mem.inBounds(ptr, 4)) { faults.push('put'); return false }
    mem.view().writeUInt32LE(value, ptr)
    return true
  }
  const glue: Glue = {
    mem,
    call: new FilterCall(),
    host: {
      filter: 'f',
      source: 'f.wasm',
      store: undefined as never,
      kv: undefined as never,
      logger: o.lines?.logger ?? silent,
      limits: { fuel: undefined, memoryPages: undefined, timeoutMs: 1000, maxResumes: 8, maxOutputBytes: 1024 },
      proxyWasm: { ...(o.upstreams === undefined ? {} : { upstreams: o.upstreams }), ...(o.vmId === undefined ? {} : { vmId: o.vmId }) },
      queues: o.queues
    },
    stage: 'request',
    rootId: 1,
    contextId: 2,
    configuration: undefined,
    allocating: false,
    broken: false,
    log: () => {},
    badPointer: (where) => { faults.push(where); return 6 },
    refuse: (where) => { faults.push(where); return 2 },
    tooLarge: (where, len) => { if (len > 1024) { faults.push(where); return true } return false },
    give: (_where, bytes, pp, sp) => {
      mem.view().set(bytes, heap)
      const ok = write(pp, heap) && write(sp, bytes.length)
      heap += bytes.length
      return ok ? 0 : 6
    },
    put: (_where, ptr, value) => write(ptr, Number(value)),
    continueStream: () => {},
    setEffectiveContext: () => 0,
    callout: undefined,
    startCall: (request, body, timeoutMs) => {
      if (o.full === true) return undefined
      started.push({ request, body: body.toString(), timeoutMs })
      return started.length
    },
    setTickPeriod: (ms) => { ticks.push(ms) },
    proxyDone: () => 1,
    queueReceiver: { queueReady: () => {} }
  }
  return { calls: asyncImports(glue) as unknown as Record<string, HostFn>, mem, faults, started, ticks, put, u32: (at) => mem.view().readUInt32LE(at) }
}

const HEADERS = [[':method', 'POST'], [':path', '/v1/check?x=1'], [':authority', 'auth.local'], ['x-a', '1'], ['x-a', '2'], [':scheme', 'https'],
  ['Host', 'other'], ['transfer-encoding', 'chunked'], ['Connection', 'close'], ['content-length', '99']] as const

/** proxy_http_call with the upstream name at 0, headers at 100, body at 1000, token written at 2000. */
function httpCall (h: Harness, upstream: string, headers: ReadonlyArray<readonly [string, string]>, timeout = 500, body = ''): number {
  const [up, ul] = h.put(0, upstream)
  const [hp, hl] = h.put(100, serializePairs(headers))
  const [bp, bl] = h.put(1000, body)
  return h.calls.proxy_http_call?.(up, ul, hp, hl, bp, bl, 0, 0, timeout, 2000) as number
}

test('proxy_http_call: a named upstream and the pseudo-headers make the request; the token is written; the timeout is capped by limits.timeoutMs', () => {
  const h = harness({ upstreams: { auth: 'http://127.0.0.1:9/prefix/' } })
  assert.equal(httpCall(h, 'auth', HEADERS, 500, 'payload'), 0)
  assert.equal(h.u32(2000), 1, 'the token')
  const { request, body, timeoutMs } = h.started[0] as Harness['started'][number]
  assert.equal(request.url.href, 'http://127.0.0.1:9/prefix/v1/check?x=1', 'the base URL\'s path prefixes :path')
  assert.deepEqual([request.method, request.upstream, body, timeoutMs], ['POST', 'auth', 'payload', 500])
  assert.deepEqual(request.headers, { 'x-a': ['1', '2'], host: 'auth.local' }, ':authority is the Host; other pseudo-headers and connection-level headers dropped; repeats kept')
  assert.equal(httpCall(h, 'auth', HEADERS, 0), 0)
  assert.equal(httpCall(h, 'auth', HEADERS, 60_000), 0)
  assert.deepEqual(h.started.slice(1).map((s) => s.timeoutMs), [1000, 1000], '0 and a longer timeout are limits.timeoutMs')
  assert.deepEqual(h.faults, [])
})

test('proxy_http_call: an unknown upstream or a missing pseudo-header is BAD_ARGUMENT, logged with the filter name; a malformed map is a fault; too many calls is INTERNAL_FAILURE', () => {
  const lines = captureLogger('info')
  const h = harness({ upstreams: { auth: 'http://127.0.0.1:9' }, lines })
  assert.equal(httpCall(h, 'other', HEADERS), 2)
  assert.match(lines.lines.at(-1)?.msg ?? '', /filter "f": proxy_http_call to upstream "other", which is not in its proxyWasm.upstreams: BAD_ARGUMENT/)
  for (const [missing, problem] of [[':method', /the :method pseudo-header is missing/], [':path', /the :path pseudo-header is missing/], [':authority', /the :authority pseudo-header is missing/]] as const) {
    assert.equal(httpCall(h, 'auth', HEADERS.filter(([n]) => n !== missing)), 2, missing)
    assert.match(lines.lines.at(-1)?.msg ?? '', problem)
  }
  assert.equal(httpCall(h, 'auth', [[':method', 'GET'], [':path', 'relative'], [':authority', 'a']]), 2)
  assert.equal(httpCall(h, 'auth', [[':method', 'GET'], [':path', '/'], [':authority', 'a'], ['bad name', 'v']]), 2)
  assert.equal(h.started.length, 0)
  assert.deepEqual(h.faults, [], 'none of these is a fault')
  const [up, ul] = h.put(0, 'auth')
  const [hp] = h.put(100, new Uint8Array([5, 0, 0, 0]))
  assert.equal(h.calls.proxy_http_call?.(up, ul, hp, 4, 0, 0, 0, 0, 100, 2000), 2)
  assert.deepEqual(h.faults, ['proxy_http_call'], 'a malformed header map is a refused write')
  const full = harness({ upstreams: { auth: 'http://127.0.0.1:9' }, full: true })
  assert.equal(httpCall(full, 'auth', HEADERS), 10)
})

test('proxy_set_tick_period_milliseconds: any period setInterval can keep; longer is BAD_ARGUMENT', () => {
  const h = harness()
  assert.equal(h.calls.proxy_set_tick_period_milliseconds?.(250), 0)
  assert.equal(h.calls.proxy_set_tick_period_milliseconds?.(0), 0)
  assert.equal(h.calls.proxy_set_tick_period_milliseconds?.(0x80000000), 2)
  assert.deepEqual(h.ticks, [250, 0])
})

test('shared-queue host calls: register, resolve in another VM\'s scope, enqueue, dequeue until EMPTY; unknown tokens are NOT_FOUND', () => {
  const queues = new SharedQueues()
  const receiver = harness({ queues, vmId: 'vm1' })
  const [np, nl] = receiver.put(0, 'events')
  assert.equal(receiver.calls.proxy_register_shared_queue?.(np, nl, 2000), 0)
  const token = receiver.u32(2000)
  const sender = harness({ queues })
  sender.put(0, 'vm1')
  sender.put(10, 'events')
  assert.equal(sender.calls.proxy_resolve_shared_queue?.(0, 3, 10, 6, 2000), 0)
  assert.equal(sender.u32(2000), token)
  assert.equal(sender.calls.proxy_resolve_shared_queue?.(0, 0, 10, 6, 2000), 1, 'not in the empty VM id')
  const [dp, dl] = sender.put(100, 'hello')
  assert.equal(sender.calls.proxy_enqueue_shared_queue?.(token, dp, dl), 0)
  assert.equal(sender.calls.proxy_enqueue_shared_queue?.(token + 7, dp, dl), 1)
  assert.equal(sender.calls.proxy_dequeue_shared_queue?.(token, 2000, 2004), 1, 'only its VM dequeues from a queue')
  assert.equal(receiver.calls.proxy_dequeue_shared_queue?.(token, 2000, 2004), 0)
  assert.equal(receiver.mem.view().subarray(receiver.u32(2000), receiver.u32(2000) + receiver.u32(2004)).toString(), 'hello')
  assert.equal(receiver.calls.proxy_dequeue_shared_queue?.(token, 2000, 2004), 7, 'EMPTY')
  assert.equal(receiver.calls.proxy_dequeue_shared_queue?.(token + 7, 2000, 2004), 1)
  assert.deepEqual([receiver.faults, sender.faults], [[], []])
  const none = harness()
  assert.equal(none.calls.proxy_register_shared_queue?.(0, 1, 2000), 12, 'without a registry (an instance outside a runtime): UNIMPLEMENTED')
})

test('the queue registry: one token per (VM id, name) for every registrant, the oldest live receiver notified, bounded length, messages kept for the next receiver', () => {
  const queues = new SharedQueues()
  const notified: string[] = []
  const receiver = (name: string): QueueReceiver => ({ queueReady: (token) => { notified.push(`${name}:${token}`) } })
  const a = receiver('a')
  const b = receiver('b')
  const token = queues.register('', 'q', a)
  assert.equal(queues.register('', 'q', b), token, 'every instance gets the same token')
  assert.notEqual(queues.register('other', 'q', a), token, 'another VM id is another queue')
  assert.equal(queues.resolve('', 'q'), token)
  assert.equal(queues.resolve('', 'nope'), undefined)
  assert.equal(queues.enqueue(token, Buffer.from('1')), 'ok')
  assert.deepEqual(notified, [`a:${token}`], 'the first registrant only')
  queues.leave(a)
  assert.equal(queues.receives(a), false)
  assert.equal(queues.enqueue(token, Buffer.from('2')), 'ok')
  assert.deepEqual(notified, [`a:${token}`, `b:${token}`], 'the next one once the first is gone')
  assert.deepEqual([queues.dequeue(token, '')?.toString(), queues.dequeue(token, '')?.toString(), queues.dequeue(token, '')], ['1', '2', undefined])
  queues.leave(b)
  for (let i = 0; i < QUEUE_MAX_LENGTH; i++) assert.equal(queues.enqueue(token, Buffer.from('x')), 'ok')
  assert.equal(queues.enqueue(token, Buffer.from('x')), 'full')
  assert.equal(queues.size(token), QUEUE_MAX_LENGTH)
  notified.length = 0
  queues.register('', 'q', receiver('c'))
  assert.deepEqual(notified, [`c:${token}`], 'messages that waited with nobody registered are announced to the new receiver')
  assert.equal(queues.enqueue(9999, Buffer.from('x')), 'not-found')
})

async function server (t: TestContext, handler: Parameters<typeof createServer>[1]): Promise<URL> {
  const s = createServer(handler)
  s.listen(0, '127.0.0.1')
  await once(s, 'listening')
  t.after(() => { s.closeAllConnections(); s.close() })
  return new URL(`http://127.0.0.1:${(s.address() as AddressInfo).port}`)
}

test('sendCallout: the response with :status first and headers lower-cased; a body over maxBytes, a timeout and a cancel are failures', async (t) => {
  const base = await server(t, (req, res) => {
    if (req.url === '/big') { res.end(Buffer.alloc(2000)); return }
    if (req.url === '/hang') return
    res.writeHead(201, { 'X-Reply': 'yes', 'Set-Cookie': ['a=1', 'b=2'] })
    res.end(`${req.method ?? ''} ${req.headers.host ?? ''}`)
  })
  const request = (path: string): CalloutRequest => calloutRequest('u', base, [[':method', 'PUT'], [':path', path], [':authority', 'svc']]) as CalloutRequest
  const ok = await sendCallout(request('/ok'), Buffer.alloc(0), 1000, 1024).result
  assert.equal(ok.ok, true)
  const answer = ok as Extract<CalloutResult, { ok: true }>
  assert.deepEqual(answer.headers[0], [':status', '201'])
  assert.ok(answer.headers.some(([n, v]) => n === 'x-reply' && v === 'yes'))
  assert.equal(answer.headers.filter(([n]) => n === 'set-cookie').length, 2, 'a repeated header is one pair per value')
  assert.equal(answer.body.toString(), 'PUT svc')
  assert.deepEqual(await sendCallout(request('/big'), Buffer.alloc(0), 1000, 1024).result, { ok: false, reason: 'its response body is over 1024 bytes (limits.maxOutputBytes)' })
  assert.deepEqual(await sendCallout(request('/hang'), Buffer.alloc(0), 50, 1024).result, { ok: false, reason: 'no response within 50 ms (timeout)' })
  const cancelled = sendCallout(request('/hang'), Buffer.alloc(0), 1000, 1024)
  cancelled.cancel()
  assert.deepEqual(await cancelled.result, { ok: false, reason: 'cancelled' })
})

test('Callouts: at most MAX_OUTSTANDING_CALLS at once; a taken answer is gone from the table; cancelAll ends every call', async (t) => {
  const base = await server(t, () => {})
  const request = calloutRequest('u', base, [[':method', 'GET'], [':path', '/'], [':authority', 'svc']]) as CalloutRequest
  const calls = new Callouts()
  const answered: number[] = []
  const tokens: Array<number | undefined> = []
  for (let i = 0; i < MAX_OUTSTANDING_CALLS + 1; i++) tokens.push(calls.start(request, Buffer.alloc(0), 5000, 1024, (token) => { answered.push(token) }))
  assert.equal(tokens.at(-1), undefined, 'one too many')
  assert.equal(calls.size, MAX_OUTSTANDING_CALLS)
  assert.equal(calls.take(tokens[0] as number)?.upstream, `"u" (${base.origin})`)
  assert.equal(calls.take(tokens[0] as number), undefined, 'taken once')
  assert.equal(calls.size, MAX_OUTSTANDING_CALLS - 1)
  calls.cancelAll()
  assert.equal(calls.size, 0)
  await new Promise((resolve) => setImmediate(resolve))
  assert.equal(answered.length, MAX_OUTSTANDING_CALLS - 1, 'each cancelled call still settles (and finds nothing in the table)')
})

class Closable {
  healthy = true
  closed = 0
  close (): void { this.closed++ }
}

test('the pool closes every instance it lets go: unhealthy, used up, evicted while idle (and replaced), idle at close', () => {
  const made: Closable[] = []
  const p = new InstancePool<Closable>('f', () => { const c = new Closable(); made.push(c); return c }, { ...defaultPoolOptions, min: 1, max: 3, maxUses: 2 })
  p.warm()
  const a = p.acquire() as Lease<Closable>
  a.instance.healthy = false
  p.release(a)
  assert.equal(a.instance.closed, 1, 'unhealthy')
  const b = p.acquire() as Lease<Closable>
  p.release(b)
  p.release(p.acquire() as Lease<Closable>)
  assert.equal(b.instance.closed, 1, 'used up (maxUses)')
  const idle = made.at(-1) as Closable
  idle.healthy = false
  p.evict(idle)
  assert.equal(idle.closed, 1, 'evicted')
  assert.equal(p.stats().idle, 1, 'replaced up to the minimum')
  const replacement = made.at(-1) as Closable
  replacement.healthy = false
  const c = p.acquire() as Lease<Closable>
  assert.notEqual(c.instance, replacement, 'an idle instance that broke is never handed out')
  assert.equal(replacement.closed, 1)
  p.release(c)
  p.close()
  assert.equal(c.instance.closed, 1, 'idle at close')
  assert.equal(made.every((m) => m.closed === 1), true, 'each closed exactly once')
})

test('proxyWasm.upstreams: base URLs only, refused with their JSON paths in a config file and in createWafer\'s options', async () => {
  assert.throws(() => resolveConfig({
    filters: { auth: { module: 'a.wasm', proxyWasm: { upstreams: { ok: 'https://auth.internal:8443/v1', ftp: 'ftp://x', query: 'http://x/?a=1', num: 7 } } } },
    routes: [{ match: { path: '/' }, respond: {} }]
  }, '<object>', '/'), (err: Error & { code: string }) => {
    assert.equal(err.code, 'WAFER_ERR_CONFIG_INVALID')
    assert.match(err.message, /\/filters\/auth\/proxyWasm\/upstreams\/ftp: /)
    assert.match(err.message, /\/filters\/auth\/proxyWasm\/upstreams\/query: /)
    assert.match(err.message, /\/filters\/auth\/proxyWasm\/upstreams\/num: /)
    assert.doesNotMatch(err.message, /upstreams\/ok/)
    return true
  })
  await assert.rejects(createWafer({ logger: silent, filters: { auth: { module: 'a.wasm', proxyWasm: { upstreams: { x: 'localhost:80' } } } } }),
    { code: 'WAFER_ERR_OPTIONS_INVALID', message: /filters\/auth\/proxyWasm\/upstreams\/x/ })
})

test('a root context whose proxy_on_done returns false at close is waited for until proxy_done (or limits.timeoutMs), then gets proxy_on_delete; its ticks go on meanwhile', async (t) => {
  const { logger, lines } = captureLogger('info')
  const w = await createWafer({
    logger,
    filters: {
      flush: { module: fixture('proxy-async-hostile'), config: 'r', pool: { min: 1, max: 1 } },
      late: { module: fixture('proxy-async-hostile'), config: 'u', pool: { min: 1, max: 1 }, limits: { timeoutMs: 100 } }
    }
  })
  t.after(() => w.close())
  const said = (filter: string): string[] => lines.filter((l) => l.filter === filter && /^(proxy_done|root_delete)/.test(l.msg)).map((l) => l.msg)
  await until('a first tick', () => said('flush').length > 0)
  assert.deepEqual(said('flush'), ['proxy_done status 1'], 'NOT_FOUND while nothing waits for it')
  const started = performance.now()
  const report = await w.reload({ filters: {} })
  assert.equal(report.outcome, 'applied')
  await until('flush: root_delete', () => said('flush').includes('root_delete'))
  assert.deepEqual(said('flush'), ['proxy_done status 1', 'proxy_done status 0', 'root_delete'], 'a tick after proxy_on_done called proxy_done: OK, then proxy_on_delete')
  await until('late: root_delete', () => said('late').includes('root_delete'))
  assert.ok(performance.now() - started >= 90, 'the one that never calls proxy_done is deleted at limits.timeoutMs')
  await new Promise((resolve) => setTimeout(resolve, 30))
  assert.deepEqual([said('flush').length, said('late')], [3, ['root_delete']], 'nothing after proxy_on_delete')
})

test('each tick starts a fresh fuel budget; one that runs out is WAFER_ERR_FILTER_FUEL, logged with the filter name, and the instance is replaced', async (t) => {
  const { logger, lines } = captureLogger('info')
  const w = await createWafer({
    logger,
    filters: {
      steady: { module: fixture('proxy-async-hostile'), config: 'l', pool: { min: 1, max: 1 }, limits: { fuel: 1000 } },
      spin: { module: fixture('proxy-async-hostile'), config: 'z', pool: { min: 1, max: 1 }, limits: { fuel: 1000 } }
    }
  })
  t.after(() => w.close())
  await until('60 ticks on a budget of 1000 fuel each', () => lines.filter((l) => l.filter === 'steady' && l.msg === 'tick').length >= 60)
  assert.equal(lines.filter((l) => l.filter === 'steady' && l.level >= 50).length, 0, 'no tick of the steady filter ran out')
  await until('the spinning tick trapped', () => lines.some((l) => l.filter === 'spin' && l.level === 50))
  const line = lines.find((l) => l.filter === 'spin' && l.level === 50) as LogLine
  assert.equal((line.err as { code: string }).code, 'WAFER_ERR_FILTER_FUEL')
  assert.match((line.err as { message: string }).message, /Filter "spin" ran out of fuel in proxy_on_tick/)
  await until('replaced', () => (w.filter('spin')?.status().pool.created ?? 0) >= 2)
})
