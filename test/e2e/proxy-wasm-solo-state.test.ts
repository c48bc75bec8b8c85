// Behaviour checks of issue 14 for filters built with @solo-io/proxy-runtime 0.1.8, outside a
// single request's callbacks: a shared-data counter under concurrent requests (CAS retries), a
// shared queue between two filters, ticks and metrics, through the Fastify plugin, the Express
// middleware and the gateway over real sockets (test/fixtures/guests/proxy-solo-counter.ts,
// proxy-solo-queue.ts; docs/proxy-wasm.md "Building with @solo-io/proxy-runtime").
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { fixture, until } from '../support/index.ts'
import { recordingUpstream, startGateway } from '../support/proxy-harness.ts'
import { soloAdapters } from './proxy-wasm-solo-apps.ts'

const OK = '0'

const counter = (max: number) => ({ module: fixture('proxy-solo-counter'), pool: { max }, proxyWasm: { rootId: 'solo_counter' } })
const queueFilters = {
  sender: { module: fixture('proxy-solo-queue'), proxyWasm: { rootId: 'solo_queue_sender' } },
  receiver: { module: fixture('proxy-solo-queue'), config: '10', pool: { min: 1, max: 1 }, proxyWasm: { rootId: 'solo_queue_receiver' } }
}

for (const [adapter, start] of soloAdapters) {
  test(`${adapter}: a solo SDK shared-data counter incremented with CAS retries by 30 concurrent requests ends at exactly 30`, async (t) => {
    const n = 30
    const app = await start(t, { filters: { counter: counter(n + 2) }, routes: { '/count': ['counter'], '/op': ['counter'] }, barrier: n })
    const before = await fetch(`${app.url}/op/x`, { headers: { 'x-op': 'read' } })
    assert.equal(await before.text(), '0', 'the root context created the counter when it was configured')
    const replies = await Promise.all(Array.from({ length: n }, async () => {
      const res = await fetch(`${app.url}/count/x`)
      await res.arrayBuffer()
      return { status: res.status, count: Number(res.headers.get('x-count')), retries: Number(res.headers.get('x-retries')), result: res.headers.get('x-status') }
    }))
    assert.ok(replies.every((r) => r.status === 200 && r.result === OK), JSON.stringify(replies.filter((r) => r.result !== OK)))
    const final = await fetch(`${app.url}/op/x`, { headers: { 'x-op': 'read' } })
    assert.equal(final.status, 200)
    assert.equal(await final.text(), String(n))
    assert.ok(Number(final.headers.get('x-cas')) > 0, 'the read gives the CAS of the last write')
    assert.deepEqual(replies.map((r) => r.count).sort((a, b) => a - b), Array.from({ length: n }, (_, i) => i + 1), 'each request wrote a different value')
    const retries = replies.reduce((sum, r) => sum + r.retries, 0)
    assert.ok(retries >= n - 1, `every request read the counter before any wrote it, so all but one had to retry: ${retries} retries`)
    assert.ok(app.runtime.filter('counter')?.status().pool.size as number >= 2, 'several instances shared the data')
  })

  test(`${adapter}: a queue between two solo SDK filters (the receiver's root context dequeues in onQueueReady), its ticks counted, and the metrics both define`, async (t) => {
    const app = await start(t, { filters: queueFilters, routes: { '/send': ['sender'], '/recv': ['receiver'] } })
    const sent = await fetch(`${app.url}/send/x`, { headers: { 'x-event': 'hello' } })
    assert.equal(sent.headers.get('x-enqueued'), OK)
    await fetch(`${app.url}/send/x`, { headers: { 'x-event': 'world!' } })
    await until('both messages received', () => app.lines.filter((l) => l.filter === 'receiver' && /^solo queue: received /.test(l.msg)).length === 2)
    assert.deepEqual(app.lines.filter((l) => l.filter === 'receiver' && /^solo queue: received /.test(l.msg)).map((l) => l.msg), ['solo queue: received hello', 'solo queue: received world!'])
    const recv = await fetch(`${app.url}/recv/x`)
    assert.equal(recv.headers.get('x-solo-received'), '2 world!', 'the receiver\'s requests see what its root context dequeued')
    const ticks = Number(recv.headers.get('x-solo-ticks'))
    await until('more ticks', async () => Number((await fetch(`${app.url}/recv/x`)).headers.get('x-solo-ticks')) >= ticks + 3)

    const metrics = app.runtime.proxyMetrics.snapshot()
    const find = (filter: string, name: string): { type: string, value: number, count?: number } | undefined => metrics.find((m) => m.filter === filter && m.name === name)
    assert.deepEqual(find('sender', 'solo.queue.sent'), { filter: 'sender', name: 'solo.queue.sent', type: 'counter', value: 2 })
    assert.equal(find('sender', 'solo.queue.message_bytes')?.type, 'histogram')
    assert.equal(find('sender', 'solo.queue.message_bytes')?.count, 2)
    assert.equal(find('sender', 'solo.queue.message_bytes')?.value, 11, 'the histogram\'s sum: 5 + 6 bytes')
    assert.deepEqual(find('receiver', 'solo.queue.received'), { filter: 'receiver', name: 'solo.queue.received', type: 'counter', value: 2 })
    const gauge = find('receiver', 'solo.ticks')
    assert.equal(gauge?.type, 'gauge')
    assert.ok((gauge?.value ?? 0) >= ticks + 3, `the gauge follows the ticks: ${JSON.stringify(gauge)}`)
  })

  test(`${adapter}: a service filter (in no chain or route) gets its ticks and the queue's messages`, async (t) => {
    const app = await start(t, { filters: queueFilters, routes: { '/send': ['sender'] } })
    const status = app.runtime.status()
    assert.deepEqual(status.services, ['receiver'], 'the receiver runs as a service filter')
    const ticks = (): number => app.runtime.proxyMetrics.snapshot().find((m) => m.filter === 'receiver' && m.name === 'solo.ticks')?.value ?? 0
    await until('three ticks with no request', () => ticks() >= 3)
    assert.equal(app.runtime.filter('receiver')?.status().pool.size, 1, 'its one warm instance is alive')
    const sent = await fetch(`${app.url}/send/x`, { headers: { 'x-event': 'to-the-service' } })
    assert.equal(sent.headers.get('x-enqueued'), OK)
    await until('the service dequeued it', () => app.lines.some((l) => l.filter === 'receiver' && l.msg === 'solo queue: received to-the-service'))
    const received = app.runtime.proxyMetrics.snapshot().find((m) => m.filter === 'receiver' && m.name === 'solo.queue.received')
    assert.equal(received?.value, 1)
    const before = ticks()
    await until('ticks go on', () => ticks() >= before + 2)
  })
}

test('express: a solo SDK sender whose queue nobody registered gets NOT_FOUND and counts nothing', async (t) => {
  const app = await soloAdapters[1][1](t, { filters: { sender: queueFilters.sender }, routes: { '/send': ['sender'] } })
  const res = await fetch(`${app.url}/send/x`, { headers: { 'x-event': 'lost' } })
  assert.equal(res.status, 200)
  assert.equal(res.headers.get('x-enqueued'), '1')
  assert.equal(app.runtime.proxyMetrics.snapshot().find((m) => m.name === 'solo.queue.sent')?.value, 0)
})

test('gateway: a queue and ticks between solo SDK filters, their metrics on /metrics, and a shared counter', async (t) => {
  const up = await recordingUpstream(t)
  const gw = await startGateway(t, {
    filters: { ...queueFilters, counter: counter(4) },
    routes: [
      { match: { path: '/send/' }, chain: ['sender'], upstream: up.url },
      { match: { path: '/recv/' }, chain: ['receiver'], upstream: up.url },
      { match: { path: '/count/' }, chain: ['counter'], upstream: up.url }
    ]
  })
  const base = `http://127.0.0.1:${gw.port}`
  assert.equal((await fetch(`${base}/send/x`, { headers: { 'x-event': 'via-gateway' } })).headers.get('x-enqueued'), OK)
  await until('received', () => gw.lines.some((l) => l.filter === 'receiver' && l.msg === 'solo queue: received via-gateway'))
  await until('ticks', async () => Number((await fetch(`${base}/recv/x`)).headers.get('x-solo-ticks')) >= 2)
  const counts = await Promise.all([1, 2, 3].map(async () => Number((await fetch(`${base}/count/x`)).headers.get('x-count'))))
  assert.deepEqual(counts.sort(), [1, 2, 3])

  const metrics = await (await fetch(`${gw.adminUrl}/metrics`)).text()
  assert.match(metrics, /^wafer_proxy_solo_queue_sent_total\{filter="sender",name="solo\.queue\.sent"\} 1$/m)
  assert.match(metrics, /^wafer_proxy_solo_queue_received_total\{filter="receiver",name="solo\.queue\.received"\} 1$/m)
  assert.match(metrics, /^# TYPE wafer_proxy_solo_ticks gauge$/m)
  assert.match(metrics, /^wafer_proxy_solo_ticks\{filter="receiver",name="solo\.ticks"\} [1-9]\d*$/m)
  assert.match(metrics, /^wafer_proxy_solo_queue_message_bytes_sum\{filter="sender",name="solo\.queue\.message_bytes"\} 11$/m)
  assert.match(metrics, /^wafer_proxy_solo_queue_message_bytes_count\{filter="sender",name="solo\.queue\.message_bytes"\} 1$/m)
})
