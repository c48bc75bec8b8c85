// Hot reload through the plugin, over a real socket, under bounded autocannon load.
import assert from 'node:assert/strict'
import { copyFile, mkdtemp, readFile, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test, type TestContext } from 'node:test'
import autocannon from 'autocannon'
import Fastify from 'fastify'
import type { ReloadReport } from '@wafer/core'
import wafer from '../src/index.ts'
import { atomicWrite, exampleFilter, fixture, silent, until } from '../../../test/support/index.ts'

async function workdir (): Promise<string> {
  return mkdtemp(join(tmpdir(), 'wafer-reload-'))
}

async function serve (t: TestContext, config: string, reports: ReloadReport[]) {
  const app = Fastify({ loggerInstance: silent })
  await app.register(wafer, { config, watch: true, chain: 'main', observer: { onReload: (r) => { reports.push(r) } } })
  app.get('/echo', async (req, reply) => {
    reply.header('x-seen', req.headers['x-variant'] ?? 'none')
    // A route that does some I/O: requests stay in flight long enough for reloads to land mid-request.
    await new Promise((resolve) => setTimeout(resolve, 3))
    return 'ok'
  })
  t.after(() => app.close())
  const url = await app.listen({ port: 0, host: '127.0.0.1' })
  return { app, url }
}

test('rewriting a filter 20 times (and once broken) under load: no error, no mixed request', async (t) => {
  const dir = await workdir()
  const module = join(dir, 'filter.wasm')
  await copyFile(fixture('variant-a'), module)
  const config = join(dir, 'gateway.yaml')
  await writeFile(config, 'reload: { debounceMs: 20 }\nfilters:\n  v: { module: ./filter.wasm }\nchains:\n  main: [v]\n')
  const reports: ReloadReport[] = []
  const { url } = await serve(t, config, reports)
  const variants = { a: await readFile(fixture('variant-a')), b: await readFile(fixture('variant-b')) }

  const seen = { a: 0, b: 0 }
  const problems: string[] = []
  let resolveLoad: (r: autocannon.Result) => void = () => {}
  let rejectLoad: (e: unknown) => void = () => {}
  const finished = new Promise<autocannon.Result>((resolve, reject) => { resolveLoad = resolve; rejectLoad = reject })
  const load = autocannon({
    url,
    connections: 8,
    duration: 30,
    requests: [{
      method: 'GET',
      path: '/echo',
      onResponse: (status: number, _body: string, _ctx: object, headers: Record<string, string | string[] | undefined> | undefined) => {
        const out = headers?.['x-variant-out']
        if (status !== 200) problems.push(`status ${status}`)
        else if (out !== headers?.['x-seen'] || (out !== 'a' && out !== 'b')) problems.push(`mixed: request saw ${String(headers?.['x-seen'])}, response stamped ${String(out)}`)
        else seen[out]++
      }
    }]
  }, (err, result) => { if (err !== null && err !== undefined) rejectLoad(err); else resolveLoad(result) })
  t.after(() => load.stop())

  let expected = 0
  const settle = async (outcome: ReloadReport['outcome']): Promise<void> => {
    expected++
    const r = await until(`reload #${expected}`, () => reports[expected - 1])
    assert.equal(r.outcome, outcome, `reload #${expected}: ${r.error?.message ?? ''}`)
    await new Promise((resolve) => setTimeout(resolve, 50)) // let traffic run on the new version
  }
  for (let i = 0; i < 20; i++) {
    await atomicWrite(module, i % 2 === 0 ? variants.b : variants.a)
    await settle('applied')
    if (i === 9) {
      await atomicWrite(module, Buffer.from('\0asm half-written'))
      await settle('failed')
    }
  }
  load.stop()
  const result = await finished

  assert.deepEqual(problems.slice(0, 5), [], `${problems.length} bad responses`)
  assert.equal(result.errors, 0)
  assert.equal(result.timeouts, 0)
  assert.equal(result.non2xx, 0)
  assert.ok(result.requests.total > 100, `load ran: ${result.requests.total} requests`)
  assert.ok(seen.a > 0 && seen.b > 0, `both versions served: ${JSON.stringify(seen)}`)
  assert.deepEqual(reports.map((r) => r.outcome).filter((o) => o === 'failed'), ['failed'])
  assert.equal(reports.filter((r) => r.outcome === 'applied').length, 20)
  assert.equal(reports.find((r) => r.outcome === 'failed')?.error?.code, 'WAFER_ERR_MODULE_INVALID')
})

test('deleting a module keeps the running filter; removing it from the config unloads it', async (t) => {
  const dir = await workdir()
  const module = join(dir, 'filter.wasm')
  await copyFile(fixture('variant-a'), module)
  const config = join(dir, 'gateway.yaml')
  const text = (withFilter: boolean) => `reload: { debounceMs: 20 }\nfilters:\n${withFilter ? '  v: { module: ./filter.wasm }\n' : ''}  noop: { module: ${fixture('noop')} }\nchains:\n  main: [${withFilter ? 'v' : 'noop'}]\n`
  await writeFile(config, text(true))
  const reports: ReloadReport[] = []
  const { app, url } = await serve(t, config, reports)
  const { unlink } = await import('node:fs/promises')
  await unlink(module)
  const failed = await until('the reload after deleting the module', () => reports[0])
  assert.equal(failed.outcome, 'failed')
  assert.equal(failed.error?.code, 'WAFER_ERR_MODULE_READ')
  assert.equal((await fetch(`${url}/echo`)).headers.get('x-variant-out'), 'a', 'still serving')
  await atomicWrite(config, Buffer.from(text(false)))
  const applied = await until('the reload after editing the config', () => reports[1])
  assert.equal(applied.outcome, 'applied')
  assert.deepEqual(applied.removed, ['v'])
  assert.equal(app.wafer.filter('v'), undefined)
  assert.equal((await fetch(`${url}/echo`)).headers.get('x-variant-out'), null)
})

test('moving a route to another chain applies to new requests; counters survive; route sets are fixed', async (t) => {
  const base = (chain: string, limit = 3) => ({
    filters: {
      a: { module: fixture('variant-a') },
      b: { module: fixture('variant-b') },
      limit: { module: exampleFilter('rate-limit'), config: { limit, windowMs: 60000, key: 'ip' } }
    },
    chains: { first: ['limit', 'a'], second: ['limit', 'b'] },
    routes: [{ match: { path: '/r', type: 'exact' as const }, chain, respond: { status: 200, body: 'r' } }]
  })
  const app = Fastify({ loggerInstance: silent })
  await app.register(wafer, { config: base('first') })
  t.after(() => app.close())
  const hit = async () => app.inject('/r')
  assert.equal((await hit()).headers['x-variant-out'], 'a')
  assert.equal((await hit()).headers['x-variant-out'], 'a')

  // A request that started before the reload keeps its version to the end.
  const early = app.wafer.enter()
  const report = await app.waferReload(base('second'))
  assert.equal(report.outcome, 'applied')
  assert.equal(early.chain('route#0').filters.at(-1)?.name, 'a')
  early.leave()

  const third = await hit()
  assert.equal(third.headers['x-variant-out'], 'b', 'new requests run the new chain')
  assert.equal(third.headers['ratelimit-remaining'], '0', 'the counter kept counting across the reload')
  assert.equal((await hit()).statusCode, 429)

  const moved = await app.waferReload({ ...base('second'), routes: [{ match: { path: '/other', type: 'exact' as const }, chain: 'second', respond: { status: 200, body: 'x' } }] })
  assert.equal(moved.outcome, 'failed')
  assert.equal(moved.error?.code, 'WAFER_ERR_RELOAD_ROUTES')
})

test('over a real socket: a request paused on the store when a reload lands finishes on its version', async (t) => {
  const { MemoryStore } = await import('@wafer/core')
  const inner = new MemoryStore()
  const gates: Array<() => void> = []
  const store = {
    get: (k: string) => inner.get(k),
    set: (k: string, v: Uint8Array, o?: { ttlMs?: number }) => inner.set(k, v, o),
    delete: (k: string) => inner.delete(k),
    // The first increment waits until the test lets it go; later ones answer at once.
    incr: (k: string, o?: { by?: number, ttlMs?: number }) => gates.length === 0 && !released
      ? new Promise<{ value: number, ttlMs: number }>((resolve) => { gates.push(() => resolve(inner.incr(k, o))) })
      : inner.incr(k, o)
  }
  let released = false
  const cfg = (v: string) => ({ filters: { kv: { module: fixture('kv-incr') }, v: { module: fixture(`variant-${v}`) } }, chains: { main: ['kv', 'v'] } })
  const app = Fastify({ loggerInstance: silent })
  await app.register(wafer, { config: cfg('a'), chain: 'main', store })
  app.get('/echo', async (req, reply) => { reply.header('x-seen', req.headers['x-variant']); return 'ok' })
  t.after(() => app.close())
  const url = await app.listen({ port: 0, host: '127.0.0.1' })

  const slow = fetch(`${url}/echo`)
  await until('the slow request to pause', () => gates[0])
  const report = await app.waferReload(cfg('b'))
  assert.equal(report.outcome, 'applied')
  assert.deepEqual(app.wafer.status().draining, [{ generation: 1, inflight: 1 }])
  released = true
  const fresh = await fetch(`${url}/echo`)
  assert.equal(fresh.headers.get('x-variant-out'), 'b', 'a new request runs the new version at once')
  gates[0]?.()
  const res = await slow
  assert.equal(res.status, 200)
  assert.equal(res.headers.get('x-seen'), 'a')
  assert.equal(res.headers.get('x-variant-out'), 'a', 'the paused request finished on the version it started on')
  await until('the old version to drain', () => app.wafer.status().draining.length === 0 ? true : undefined)
})
