// State in a real Redis shared by two gateway processes.
import assert from 'node:assert/strict'
import { mkdtemp, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { exampleFilter } from '../../../test/support/index.ts'
import { spawnRedis } from '../../../test/support/redis.ts'
import { serve } from './serve.ts'

async function gatewayConfig (redisUrl: string, prefix: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'wafer-redis-gw-'))
  const file = join(dir, 'gateway.json')
  const limit = (failurePolicy: string) => ({ module: exampleFilter('rate-limit'), failurePolicy, config: { limit: 10, windowMs: 60000, key: 'header:x-client' } })
  await writeFile(file, JSON.stringify({
    server: { logger: { level: 'warn' } },
    admin: { port: 0 },
    reload: { watch: false },
    state: { redis: { url: redisUrl, keyPrefix: prefix, timeoutMs: 150 } },
    filters: { open: limit('fail-open'), closed: limit('fail-closed') },
    routes: [
      { match: { path: '/open/' }, chain: ['open'], respond: { status: 200, body: 'open' } },
      { match: { path: '/closed/' }, chain: ['closed'], respond: { status: 200, body: 'closed' } }
    ]
  }))
  return file
}

test('two gateway processes share one Redis: a limit of 10 per window holds exactly across both', async (t) => {
  const redis = await spawnRedis()
  t.after(() => redis.stop())
  const file = await gatewayConfig(redis.url, `shared-${process.pid}:`)
  const [a, b] = await Promise.all([serve(t, ['--config', file, '--port', '0', '--admin-port', '0']), serve(t, ['--config', file, '--port', '0', '--admin-port', '0'])])
  assert.notEqual(a.url, b.url)
  // 30 requests at once, spread over both processes, all from one client.
  const statuses = await Promise.all(Array.from({ length: 30 }, (_, i) =>
    fetch(`${(i % 2 === 0 ? a : b).url}/closed/x`, { headers: { 'x-client': 'c1' } }).then((r) => r.status)))
  assert.equal(statuses.filter((s) => s === 200).length, 10)
  assert.equal(statuses.filter((s) => s === 429).length, 20)
  const other = await fetch(`${b.url}/closed/x`, { headers: { 'x-client': 'c2' } })
  assert.equal(other.status, 200, 'another client has its own window')
})

test('Redis paused: fail-open lets requests through, fail-closed answers 503, both promptly; counting resumes after', async (t) => {
  const redis = await spawnRedis()
  t.after(() => redis.stop())
  const file = await gatewayConfig(redis.url, `pause-${process.pid}:`)
  const gw = await serve(t, ['--config', file, '--port', '0', '--admin-port', '0'])
  const hit = async (path: string) => {
    const started = Date.now()
    const res = await fetch(`${gw.url}${path}`, { headers: { 'x-client': 'p' } })
    return { status: res.status, body: await res.text(), ms: Date.now() - started }
  }
  assert.equal((await hit('/closed/x')).status, 200)
  redis.pause()
  const open = await hit('/open/x')
  const closed = await hit('/closed/x')
  redis.resume()
  assert.equal(open.status, 200, 'fail-open: the request went through without its counter')
  assert.equal(closed.status, 503)
  assert.equal(JSON.parse(closed.body).reason, 'state')
  assert.equal(JSON.parse(closed.body).code, 'WAFER_ERR_STATE')
  // timeoutMs is 150; a generous bound rules out hanging without timing the machine.
  assert.ok(open.ms < 3000 && closed.ms < 3000, `no request hangs: ${open.ms} ms, ${closed.ms} ms`)
  const after = await hit('/closed/x')
  assert.equal(after.status, 200, 'counting resumed once Redis answered again')
  const metrics = await (await fetch(`${gw.adminUrl ?? ''}/metrics`)).text()
  assert.match(metrics, /wafer_store_errors_total\{op="[a-z]+",reason="timeout"\} [1-9]/)
})
