// `wafer serve --workers 2`: a real cluster sharing a real Redis.
import assert from 'node:assert/strict'
import { mkdtemp, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { exampleFilter, fixture } from '../../../test/support/index.ts'
import { spawnRedis } from '../../../test/support/redis.ts'
import { serve } from './serve.ts'

test('cluster: workers share the port and one Redis; status, metrics and reloads cover every worker', async (t) => {
  const redis = await spawnRedis()
  t.after(() => redis.stop())
  const dir = await mkdtemp(join(tmpdir(), 'wafer-cluster-'))
  const file = join(dir, 'gateway.json')
  const write = (variant: string) => writeFile(file, JSON.stringify({
    server: { logger: { level: 'warn' } },
    admin: { port: 0 },
    reload: { watch: false },
    state: { redis: { url: redis.url, keyPrefix: `cluster-${process.pid}:` } },
    filters: {
      limit: { module: exampleFilter('rate-limit'), config: { limit: 12, windowMs: 60000, key: 'header:x-client' } },
      v: { module: fixture(`variant-${variant}`) }
    },
    routes: [
      { match: { path: '/limited', type: 'exact' }, chain: ['limit'], respond: { status: 200, body: 'ok' } },
      { match: { path: '/variant', type: 'exact' }, chain: ['v'], respond: { status: 200, body: 'ok' } }
    ]
  }))
  await write('a')
  const gw = await serve(t, ['--config', file, '--workers', '2', '--port', '0', '--admin-port', '0'])
  const admin = gw.adminUrl ?? assert.fail('the primary runs the admin listener')
  // A new connection per request, so the cluster spreads them over the workers.
  const fresh = { connection: 'close' }

  const status = await (await fetch(`${admin}/_wafer/status`)).json() as { workers: Array<{ pid: number, result: { generation: number } }> }
  assert.equal(status.workers.length, 2)
  assert.notEqual(status.workers[0]?.pid, status.workers[1]?.pid)

  const codes = await Promise.all(Array.from({ length: 30 }, () =>
    fetch(`${gw.url}/limited`, { headers: { ...fresh, 'x-client': 'c1' } }).then((r) => r.status)))
  assert.equal(codes.filter((c) => c === 200).length, 12, 'the limit holds across the cluster')
  assert.equal(codes.filter((c) => c === 429).length, 18)

  const metrics = await (await fetch(`${admin}/metrics`)).text()
  const calls = [...metrics.matchAll(/^wafer_filter_calls_total\{filter="limit",phase="request",outcome="(continue|respond)"\} (\d+)$/gm)]
  assert.equal(calls.reduce((n, m) => n + Number(m[2]), 0), 30, 'metrics are summed over the workers')

  await write('b')
  const reload = await fetch(`${admin}/_wafer/reload`, { method: 'POST' })
  assert.equal(reload.status, 200)
  const reports = (await reload.json() as { workers: Array<{ result: { outcome: string } }> }).workers
  assert.deepEqual(reports.map((r) => r.result.outcome), ['applied', 'applied'])
  const variants = await Promise.all(Array.from({ length: 20 }, () =>
    fetch(`${gw.url}/variant`, { headers: fresh }).then((r) => r.headers.get('x-variant-out'))))
  assert.deepEqual([...new Set(variants)], ['b'], 'every worker serves the new version')

  const exited = new Promise<number | null>((resolve) => gw.child.once('exit', resolve))
  gw.child.kill('SIGTERM')
  assert.equal(await exited, 0)
})
