// Service filters (docs/proxy-wasm.md#service-filters): a filter declared but in no chain and
// no route still loads, starts its root context and keeps it alive across requests; status
// lists it as a service filter; a reload that drops it closes it. Through the Fastify plugin,
// the Express middleware and the gateway, over real sockets, with a real pino logger.
import assert from 'node:assert/strict'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { Gateway } from '../../packages/gateway/src/index.ts'
import { captureLogger, fixture, until, type LogLine } from '../support/index.ts'
import { adapters, runApp, type Echo } from '../support/adapter-apps.ts'
import { recordingUpstream } from '../support/proxy-harness.ts'

const STARTED = 'service root context started'
const started = (lines: LogLine[]): number => lines.filter((l) => l.filter === 'svc' && l.msg === STARTED).length
const DONE = 'service root context done'
const ended = (lines: LogLine[]): number => lines.filter((l) => l.filter === 'svc' && l.msg === DONE).length

const filters = () => ({
  svc: { module: fixture('proxy-service-start'), capabilities: ['log' as const] },
  tag: { module: fixture('proxy-v010-unmarked'), config: 'tagged' }
})

for (const [adapter, make] of adapters) {
  test(`${adapter}: a filter in no chain starts its root context, stays alive across requests, is listed as a service filter, and a reload that drops it closes it`, async (t) => {
    const app = await runApp(t, make, { filters: filters(), chain: ['tag'] })
    assert.equal(started(app.lines), 1, 'the service filter\'s root context started once, at load')

    for (let i = 0; i < 3; i++) {
      const res = await fetch(`${app.url}/x`)
      assert.equal(res.status, 200)
      assert.equal((await res.json() as Echo).headers['x-abi'], 'unmarked', 'the chain ran')
    }
    const status = app.runtime.status()
    assert.deepEqual(status.services, ['svc'])
    const svc = status.filters.find((f) => f.name === 'svc')
    assert.ok(svc !== undefined)
    assert.equal(svc.service, true)
    assert.equal(svc.state, 'ready')
    assert.equal(svc.calls, 0, 'no request ran it')
    assert.deepEqual([svc.pool.size, svc.pool.created, svc.pool.discarded], [1, 1, 0], 'its one instance (and root context) stayed alive')
    assert.equal(status.filters.find((f) => f.name === 'tag')?.service, false)
    assert.equal(started(app.lines), 1, 'requests never re-created it')

    // A reload that changes another filter carries the service filter over, warm, and says it is one.
    const old = app.runtime.filter('svc')
    const kept = await app.runtime.reload({ filters: { ...filters(), tag: { ...filters().tag, config: 'retagged' } } })
    assert.equal(kept.outcome, 'applied')
    assert.deepEqual(kept.loaded, ['tag'])
    assert.equal(app.runtime.filter('svc'), old, 'the same filter, its root context alive')
    assert.equal(started(app.lines), 1)
    assert.equal(ended(app.lines), 0, 'its root context was not ended')
    assert.ok(app.lines.some((l) => l.msg === 'service filters (in no chain, kept running): svc'), 'the reload names the service filters')
    assert.equal((await (await fetch(`${app.url}/x`)).json() as Echo).headers['x-config'], 'retagged')

    const report = await app.runtime.reload({ filters: { tag: filters().tag } })
    assert.equal(report.outcome, 'applied')
    assert.deepEqual(report.removed, ['svc'])
    assert.equal(old?.state, 'closed', 'the dropped service filter was closed')
    assert.equal(old?.status().pool.size, 0, 'its instance was let go')
    await until('the root context to end', () => ended(app.lines) === 1)
    assert.equal(ended(app.lines), 1, 'its root context was ended (proxy_on_done on the root context)')
    assert.deepEqual(app.runtime.status().services, [])
    assert.equal((await fetch(`${app.url}/y`)).status, 200, 'the chain still serves')
  })
}

test('a Proxy-Wasm service filter keeps one live instance even with pool.min 0', async (t) => {
  const app = await runApp(t, adapters[0][1], { filters: { ...filters(), svc: { ...filters().svc, pool: { min: 0, max: 1, maxUses: 1 } } }, chain: ['tag'] })
  const svc = app.runtime.status().filters.find((f) => f.name === 'svc')
  assert.equal(svc?.pool.size, 1)
  assert.equal(started(app.lines), 2, 'the first instance was used up by its load (maxUses 1) and replaced at once')
})

test('gateway: a filter in no route is logged and listed by the admin status as a service filter; a reload that drops it closes it', async (t) => {
  const up = await recordingUpstream(t)
  const dir = mkdtempSync(join(tmpdir(), 'wafer-service-'))
  const file = join(dir, 'wafer.json')
  const config = (withService: boolean): string => JSON.stringify({
    admin: { port: 0 },
    filters: withService ? filters() : { tag: filters().tag },
    routes: [{ match: { path: '/' }, chain: ['tag'], upstream: up.url }]
  })
  writeFileSync(file, config(true))
  const { logger, lines } = captureLogger('info')
  const gateway = await Gateway.create({ config: file, port: 0, logger, watch: false })
  t.after(() => gateway.close())
  const { url, adminUrl } = await gateway.listen()
  assert.equal(started(lines), 1)
  const announced = lines.find((l) => l.filter === 'svc' && l.service === true)
  assert.equal(announced?.msg, 'filter "svc" is a service filter: in no chain or route, it stays loaded and runs for no request')
  assert.equal(lines.filter((l) => l.service === true).length, 1, 'only the filter in no route is announced')

  assert.equal((await fetch(`${url}/a`)).status, 200)
  assert.equal(up.received[0]?.headers['x-abi'], 'unmarked')
  const body = await (await fetch(`${adminUrl as string}/_wafer/status`)).json() as { filters: Array<{ name: string, service: boolean, state: string }>, services: string[] }
  assert.deepEqual(body.services, ['svc'])
  assert.deepEqual(body.filters.map((f) => [f.name, f.service, f.state]).sort(), [['svc', true, 'ready'], ['tag', false, 'ready']])

  const old = gateway.app.wafer.filter('svc')
  writeFileSync(file, config(false))
  const report = await gateway.reload()
  assert.equal(report.outcome, 'applied')
  assert.deepEqual(report.removed, ['svc'])
  assert.equal(old?.state, 'closed')
  await until('the root context to end', () => ended(lines) === 1)
  const after = await (await fetch(`${adminUrl as string}/_wafer/status`)).json() as { services: string[] }
  assert.deepEqual(after.services, [])
})
