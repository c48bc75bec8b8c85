// Issue 11.3: a reload refused for its routes was logged without naming the file, and edits to
// settings read at startup (or to reload.debounceMs / drainTimeoutMs) were reported as
// `unchanged` and silently ignored.
import assert from 'node:assert/strict'
import { mkdtemp, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { serve } from '../../packages/gateway/test/serve.ts'
import { fixture, type LogLine } from '../support/index.ts'
import { until } from '../support/gateway-output.ts'

interface Report { outcome: string, from: number, to: number, restartRequired?: string[], error?: { code: string, message: string, file?: string } }

test('reload: a refused route change names the file; startup-only settings are reported as needing a restart; drain and debounce apply', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'wafer-reload-settings-'))
  const file = join(dir, 'gateway.json')
  const config = (o: { path?: string, bodyLimit?: number, watch?: boolean, drainTimeoutMs?: number, debounceMs?: number } = {}): string => JSON.stringify({
    server: { port: 0, bodyLimit: o.bodyLimit ?? 1024 },
    admin: { port: 0 },
    reload: { watch: o.watch ?? false, drainTimeoutMs: o.drainTimeoutMs ?? 30000, debounceMs: o.debounceMs ?? 250 },
    filters: { noop: { module: fixture('noop') } },
    routes: [{ match: { path: o.path ?? '/v', type: 'exact' }, chain: ['noop'], respond: { status: 200, body: 'v' } }]
  })
  await writeFile(file, config())
  const { child, adminUrl, output } = await serve(t, ['--config', file, '--no-watch'])
  const reload = async (): Promise<{ status: number, report: Report }> => {
    const res = await fetch(`${adminUrl as string}/_wafer/reload`, { method: 'POST' })
    return { status: res.status, report: await res.json() as Report }
  }

  await writeFile(file, config({ path: '/w' }))
  const moved = await reload()
  assert.equal(moved.status, 422)
  assert.equal(moved.report.error?.code, 'WAFER_ERR_RELOAD_ROUTES')
  assert.equal(moved.report.error?.file, file)
  assert.ok(moved.report.error?.message.includes(file), moved.report.error?.message)
  const failed = (await until(child, output, (l) => l.some((x) => x.msg.startsWith('reload failed')))).find((x) => x.msg.startsWith('reload failed')) as LogLine
  assert.ok(failed.msg.includes(file), `the log line names the file: ${failed.msg}`)

  await writeFile(file, config({ bodyLimit: 2048, watch: true }))
  const startup = await reload()
  assert.equal(startup.status, 200)
  assert.equal(startup.report.outcome, 'unchanged', 'nothing it could apply changed')
  assert.deepEqual(startup.report.restartRequired, ['server.bodyLimit', 'reload.watch'])
  const warned = (await until(child, output, (l) => l.some((x) => x.level === 40 && Array.isArray(x.restartRequired)))).find((x) => x.level === 40 && Array.isArray(x.restartRequired)) as LogLine
  assert.match(warned.msg, /server\.bodyLimit, reload\.watch changed, but they are read at startup only; restart to apply/)

  await writeFile(file, config({ bodyLimit: 2048, watch: true, drainTimeoutMs: 5000 }))
  const drain = await reload()
  assert.deepEqual([drain.report.outcome, drain.report.from, drain.report.to], ['applied', 1, 2], 'a new drain timeout is applied')

  await writeFile(file, config({ bodyLimit: 2048, watch: true, drainTimeoutMs: 5000, debounceMs: 50 }))
  const debounce = await reload()
  assert.deepEqual([debounce.report.outcome, debounce.report.from, debounce.report.to], ['applied', 2, 3], 'a new debounce is applied')
})
