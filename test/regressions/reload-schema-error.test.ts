// Issue 11.3: reloading a config that failed the schema threw inside the reload's own error
// handling (pino could not tag the frozen problem objects), answered 500, left the rejected
// promise in the reload queue so every later reload failed the same way, and the next SIGHUP
// was an unhandled rejection that killed the gateway.
import assert from 'node:assert/strict'
import { mkdtemp, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { serve } from '../../packages/gateway/test/serve.ts'
import { fixture, type LogLine } from '../support/index.ts'
import { until } from '../support/gateway-output.ts'

interface Failure { code: string, message: string, file?: string, problems?: Array<{ path: string, message: string }> }
interface Report { outcome: string, from: number, to: number, error?: Failure }

const failedLines = (lines: LogLine[]): LogLine[] => lines.filter((l) => l.msg.startsWith('reload failed'))

const PROBLEMS = ['/filters/noop/failurPolicy', '/filters/noop/pool/max', '/routes/0/respond/status']

test('a config that fails the schema, reloaded 20 times by POST and SIGHUP, is refused each time with every problem; then a good one applies', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'wafer-reload-schema-'))
  const file = join(dir, 'gateway.json')
  const config = (body: string, broken = false): string => JSON.stringify({
    server: { port: 0 },
    admin: { port: 0 },
    reload: { watch: false },
    filters: { noop: { module: fixture('noop'), ...(broken ? { failurPolicy: 'fail-open', pool: { max: 0 } } : {}) } },
    routes: [{ match: { path: '/v', type: 'exact' }, chain: ['noop'], respond: { status: broken ? 99 : 200, body } }]
  })
  await writeFile(file, config('one'))
  const { child, url, adminUrl, output } = await serve(t, ['--config', file])
  const admin = adminUrl as string

  for (let i = 1; i <= 20; i++) {
    await writeFile(file, config(`broken ${i}`, true))
    if (i % 2 === 1) {
      const res = await fetch(`${admin}/_wafer/reload`, { method: 'POST' })
      const report = await res.json() as Report
      assert.equal(res.status, 422, `reload ${i}: ${JSON.stringify(report)}`)
      assert.equal(report.outcome, 'failed')
      assert.equal(report.error?.code, 'WAFER_ERR_CONFIG_INVALID')
      assert.equal(report.error?.file, file)
      assert.deepEqual(report.error?.problems?.map((p) => p.path), PROBLEMS)
      for (const path of PROBLEMS) assert.ok(report.error?.message.includes(path), `the message lists ${path}`)
    } else {
      child.kill('SIGHUP')
    }
    const lines = await until(child, output, (l) => failedLines(l).length === i)
    const line = failedLines(lines).at(-1) as LogLine
    assert.equal(line.level, 50)
    const logged = (line.reload as Report).error as Failure
    assert.deepEqual(logged.problems?.map((p) => p.path), PROBLEMS, 'the log line carries every problem with its JSON path')
    for (const path of PROBLEMS) assert.ok(line.msg.includes(path), `the log message lists ${path}`)
  }

  const status = await (await fetch(`${admin}/_wafer/status`)).json() as { generation: number, lastReload: Report }
  assert.equal(status.generation, 1)
  assert.equal(status.lastReload.outcome, 'failed')
  assert.deepEqual(status.lastReload.error?.problems?.map((p) => p.path), PROBLEMS)
  const metrics = await (await fetch(`${admin}/metrics`)).text()
  assert.match(metrics, /^wafer_reloads_total\{outcome="failed"\} 20$/m)
  assert.equal(await (await fetch(`${url}/v`)).text(), 'one', 'the running version kept serving')

  // The file is fixed: the next reload applies it, by signal as by request.
  await writeFile(file, config('two'))
  child.kill('SIGHUP')
  await until(child, output, (l) => l.some((x) => x.msg.startsWith('reload: generation 1 -> 2')))
  assert.equal(await (await fetch(`${url}/v`)).text(), 'two')
  const again = await fetch(`${admin}/_wafer/reload`, { method: 'POST' })
  assert.equal(again.status, 200)
  assert.equal((await again.json() as Report).outcome, 'unchanged')
  const after = await (await fetch(`${admin}/metrics`)).text()
  assert.match(after, /^wafer_reloads_total\{outcome="applied"\} 1$/m)
  assert.match(after, /^wafer_reloads_total\{outcome="failed"\} 20$/m)

  assert.equal(child.exitCode, null, 'SIGHUP never killed the gateway')
  assert.doesNotMatch(output(), /TypeError|Unhandled|circular-ref-tag/)
  const exited = new Promise<number | null>((resolve) => child.once('close', resolve))
  child.kill('SIGTERM')
  assert.equal(await exited, 0)
})

test('with the file watch on, a typo written while the gateway runs is refused, and fixing it applies', { timeout: 60_000 }, async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'wafer-reload-watch-'))
  const file = join(dir, 'gateway.json')
  const config = (body: string, extra: object = {}): string => JSON.stringify({
    server: { port: 0 },
    admin: { port: 0 },
    reload: { watch: true, debounceMs: 20 },
    filters: { noop: { module: fixture('noop'), ...extra } },
    routes: [{ match: { path: '/v', type: 'exact' }, chain: ['noop'], respond: { status: 200, body } }]
  })
  await writeFile(file, config('one'))
  const { child, url, output } = await serve(t, ['--config', file])
  for (let i = 1; i <= 3; i++) {
    await writeFile(file, config(`broken ${i}`, { failurPolicy: 'fail-open' }))
    const lines = await until(child, output, (l) => failedLines(l).length >= i)
    const logged = (failedLines(lines).at(-1)?.reload as Report).error as Failure
    assert.deepEqual(logged.problems?.map((p) => p.path), ['/filters/noop/failurPolicy'])
  }
  await writeFile(file, config('two'))
  await until(child, output, (l) => l.some((x) => x.msg.startsWith('reload: generation 1 -> 2')))
  assert.equal(await (await fetch(`${url}/v`)).text(), 'two')
  assert.equal(child.exitCode, null)
  assert.doesNotMatch(output(), /TypeError|Unhandled|circular-ref-tag/)
})
