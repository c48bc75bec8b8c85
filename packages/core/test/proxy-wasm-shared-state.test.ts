// The state behind Proxy-Wasm shared data and metrics, tested directly: the in-memory table's
// CAS rules (state/shared-data.ts), slots that keep VM ids apart, and the metrics registry
// (abi/proxy-wasm/metrics.ts): ids, types, bounds, Prometheus names and what a registry reads.
// Through the adapters: test/e2e/proxy-wasm-shared.test.ts, packages/gateway/test/proxy-metrics.test.ts.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { casOf, MemorySharedData, vmSlotPrefix } from '../src/state/shared-data.ts'
import { FilterStore } from '../src/abi/filter-store.ts'
import { GuestMemory } from '../src/abi/guest-memory.ts'
import { MAX_METRICS_PER_FILTER, ProxyMetrics, type PromCollector } from '../src/abi/proxy-wasm/metrics.ts'

test('memory table: NOT_FOUND, a new CAS on every write, CAS 0 unconditional, a stale CAS refused, a missing key written whatever the CAS', () => {
  const t = new MemorySharedData()
  assert.equal(t.get('k'), undefined)
  assert.equal(t.set('k', Buffer.from('a'), 99), 'ok')
  const first = t.get('k')
  assert.equal(Buffer.from(first?.value ?? []).toString(), 'a')
  assert.equal(first?.cas, 1)
  assert.equal(t.set('k', Buffer.from('b'), 1), 'ok')
  assert.equal(t.get('k')?.cas, 2)
  assert.equal(t.set('k', Buffer.from('c'), 1), 'cas-mismatch')
  assert.equal(Buffer.from(t.get('k')?.value ?? []).toString(), 'b', 'a refused write changes nothing')
  assert.equal(t.set('k', Buffer.from('d'), 0), 'ok')
  assert.equal(t.get('k')?.cas, 3)
  assert.equal(t.set('other', Buffer.from('x'), 0), 'ok')
  assert.equal(t.get('other')?.cas, 4, 'one counter per table, as in proxy-wasm-cpp-host')
})

test('memory table: the value is copied in (the guest reuses its memory); a new key past the bound is refused, an existing one still written', () => {
  const t = new MemorySharedData(2)
  const bytes = Buffer.from('one')
  t.set('a', bytes, 0)
  bytes.write('two')
  assert.equal(Buffer.from(t.get('a')?.value ?? []).toString(), 'one')
  assert.equal(t.set('b', Buffer.from('b'), 0), 'ok')
  assert.equal(t.set('c', Buffer.from('c'), 0), 'full')
  assert.equal(t.get('c'), undefined)
  assert.equal(t.set('a', Buffer.from('again'), 0), 'ok')
})

test('CAS numbers are never 0: the counter folds into 1..2^32-1', () => {
  assert.deepEqual([casOf(1), casOf(0xFFFF_FFFF), casOf(0x1_0000_0000), casOf(0x1_0000_0001)], [1, 0xFFFF_FFFF, 1, 2])
})

test('slots: a VM id and a key can never spell another pair\'s slot, and a repeated key is the same string', () => {
  const mem = new GuestMemory()
  mem.attach(new WebAssembly.Memory({ initial: 1 }))
  const key = (vmId: string, k: string): string => {
    mem.view().write(k, 100, 'latin1')
    return new FilterStore(vmSlotPrefix(vmId).slice(0, -1)).key(mem, 100, k.length)
  }
  assert.notEqual(key('a', 'b:c'), key('a:b', 'c'))
  assert.notEqual(key('', '0::x'), key('0:', 'x'))
  assert.equal(key('vm1', 'counter'), '3:vm1:counter')
  const slots = new FilterStore('3:vm1')
  mem.view().write('counter', 200, 'latin1')
  assert.equal(slots.key(mem, 200, 7), slots.key(mem, 200, 7))
})

test('metrics: the same name gives the same id, another type is refused, ids carry the type and are the filter\'s own', () => {
  const registry = new ProxyMetrics()
  const f = registry.forFilter('f')
  const c = f.define(0, 'envoy.rq')
  const g = f.define(1, 'active')
  const h = f.define(2, 'size')
  assert.deepEqual([typeof c, typeof g, typeof h], ['number', 'number', 'number'])
  assert.equal(f.define(0, 'envoy.rq'), c)
  assert.equal(f.define(1, 'envoy.rq'), 'type-mismatch')
  assert.deepEqual([(c as number) & 3, (g as number) & 3, (h as number) & 3], [0, 1, 2])
  assert.equal(f.get(c as number)?.name, 'envoy.rq')
  assert.equal(f.get((c as number) | 1), undefined, 'an id whose type bits do not match is unknown')
  assert.equal(registry.forFilter('other').get(c as number), undefined)
  assert.equal(registry.forFilter('f'), f, 'one object per filter name: a reload keeps the metrics')
})

test(`metrics: at most ${MAX_METRICS_PER_FILTER} per filter`, () => {
  const f = new ProxyMetrics().forFilter('f')
  for (let i = 0; i < MAX_METRICS_PER_FILTER; i++) assert.equal(typeof f.define(0, `m${i}`), 'number')
  assert.equal(f.define(0, 'one.more'), 'full')
  assert.equal(typeof f.define(0, 'm0'), 'number', 'an existing name is still found')
})

test('metrics: Prometheus names are sanitised, counters end in _total, a name taken by another type gets a suffix; a registry reads values, buckets, sum and count', async () => {
  const registry = new ProxyMetrics()
  const registered: PromCollector[] = []
  registry.register({ registerMetric: (m: PromCollector) => { registered.push(m) } })
  const a = registry.forFilter('a')
  const b = registry.forFilter('b')
  const rq = a.define(0, 'envoy.rq-count') as number
  b.define(0, 'envoy.rq-count')
  a.define(1, 'x')
  const hist = b.define(2, 'x') as number
  ;(a.get(rq) ?? assert.fail()).value += 5
  const h = b.get(hist) ?? assert.fail()
  h.observe(3)
  h.observe(7)
  h.observe(1e9)
  assert.deepEqual(registered.map((m) => [m.name, m.type]), [['wafer_proxy_envoy_rq_count_total', 'counter'], ['wafer_proxy_x', 'gauge'], ['wafer_proxy_x_histogram', 'histogram']])
  const counter = await (registered[0] as PromCollector).get()
  assert.deepEqual(counter.values, [{ value: 5, labels: { filter: 'a', name: 'envoy.rq-count' } }, { value: 0, labels: { filter: 'b', name: 'envoy.rq-count' } }])
  const histogram = await (registered[2] as PromCollector).get()
  const bucket = (le: number | string): number | undefined => histogram.values.find((v) => v.metricName === 'wafer_proxy_x_histogram_bucket' && v.labels.le === le)?.value
  assert.deepEqual([bucket(1), bucket(5), bucket(10), bucket(3600000), bucket('+Inf')], [0, 1, 2, 2, 3])
  assert.equal(histogram.values.find((v) => v.metricName === 'wafer_proxy_x_histogram_sum')?.value, 1e9 + 10)
  assert.equal(histogram.values.find((v) => v.metricName === 'wafer_proxy_x_histogram_count')?.value, 3)
  const snap = registry.snapshot().find((m) => m.type === 'histogram')
  assert.deepEqual([snap?.count, snap?.value, snap?.buckets?.at(-1)], [3, 1e9 + 10, { le: 3600000, count: 2 }])
})

test('metrics: a family the registry refuses (a name the application has) is reported to onError and left out', () => {
  const registry = new ProxyMetrics()
  const refused: string[] = []
  registry.register({ registerMetric: () => { throw new Error('A metric with the name wafer_proxy_up has already been registered.') } }, (_err, name) => { refused.push(name) })
  registry.forFilter('f').define(1, 'up')
  assert.deepEqual(refused, ['wafer_proxy_up'])
})
