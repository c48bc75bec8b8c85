// A gateway config with several broken filters: `wafer serve` prints every one before it
// listens, and a reload refused for them answers and logs every one.
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { mkdtemp, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { Gateway } from '../src/index.ts'
import { captureLogger, fixture, type LogLine } from '../../../test/support/index.ts'
import { CLI } from './serve.ts'

interface FailedReport { outcome: string, error: { code: string, message: string, filters?: Array<{ name: string, code: string, message: string }> } }

/** A directory with a file that is not WebAssembly, and a config writer. */
async function workspace (): Promise<{ garbage: string, write: (config: unknown) => Promise<string> }> {
  const dir = await mkdtemp(join(tmpdir(), 'wafer-load-failures-'))
  const garbage = join(dir, 'garbage.wasm')
  await writeFile(garbage, 'definitely not wasm')
  const file = join(dir, 'gateway.json')
  return { garbage, write: async (config) => { await writeFile(file, JSON.stringify(config)); return file } }
}

function broken (garbage: string): Record<string, unknown> {
  return {
    server: { port: 0 },
    admin: { enabled: false },
    filters: { good: { module: fixture('noop') }, garbage: { module: garbage }, picky: { module: fixture('reject-config') } },
    routes: [{ match: { path: '/v', type: 'exact' }, chain: ['good', 'garbage', 'picky'], respond: { status: 200, body: 'ok' } }]
  }
}

test('wafer serve with two broken filters exits 1 and prints both, each with its code, before listening', async () => {
  const { garbage, write } = await workspace()
  const file = await write(broken(garbage))
  const child = spawn(process.execPath, [CLI, 'serve', '--config', file, '--no-watch'], { stdio: ['ignore', 'pipe', 'pipe'] })
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', (c: Buffer) => { stdout += c.toString() })
  child.stderr.on('data', (c: Buffer) => { stderr += c.toString() })
  const code = await new Promise<number | null>((resolve, reject) => {
    const timer = setTimeout(() => { child.kill('SIGKILL'); reject(new Error(`wafer serve did not exit:\n${stdout}\n${stderr}`)) }, 20_000)
    child.on('exit', (c) => { clearTimeout(timer); resolve(c) })
  })
  assert.equal(code, 1, stderr)
  assert.match(stderr, /^✗ 2 of 3 filters failed to load, each with its own error:\n/)
  assert.ok(stderr.includes(`\n  - "garbage": WAFER_ERR_MODULE_INVALID: Filter module ${garbage} is not a valid WebAssembly module: `), stderr)
  assert.ok(stderr.includes(`\n  - "picky": WAFER_ERR_FILTER_CONFIG: Filter "picky" (${fixture('reject-config')}) rejected its configuration: "limit" must be a positive integer`), stderr)
  assert.doesNotMatch(stdout + stderr, /listening/)
})

test('a reload refused for two broken filters answers 422 and logs both, each with its code; the running version keeps serving', async (t) => {
  const { garbage, write } = await workspace()
  const good = { ...broken(garbage), filters: { good: { module: fixture('noop') } }, routes: [{ match: { path: '/v', type: 'exact' }, chain: ['good'], respond: { status: 200, body: 'ok' } }] }
  const file = await write({ ...good, admin: { port: 0 } })
  const { logger, lines } = captureLogger('info')
  const gw = await Gateway.create({ config: file, port: 0, logger, watch: false })
  t.after(() => gw.close())
  const { url, adminUrl } = await gw.listen()

  await write({ ...broken(garbage), admin: { port: 0 } })
  const refused = await fetch(`${adminUrl}/_wafer/reload`, { method: 'POST' })
  assert.equal(refused.status, 422)
  const report = await refused.json() as FailedReport
  assert.equal(report.error.code, 'WAFER_ERR_FILTERS_FAILED')
  assert.deepEqual(report.error.filters?.map((f) => [f.name, f.code]), [['garbage', 'WAFER_ERR_MODULE_INVALID'], ['picky', 'WAFER_ERR_FILTER_CONFIG']])
  assert.match(report.error.message, /^2 of 3 filters failed to load, each with its own error:\n {2}- "garbage": WAFER_ERR_MODULE_INVALID: .*\n {2}- "picky": WAFER_ERR_FILTER_CONFIG: /)

  const line = lines.find((l) => l.level === 50 && l.msg.startsWith('reload failed')) as LogLine
  assert.ok(line !== undefined, 'an error line for the refused reload')
  assert.match(line.msg, /"garbage": WAFER_ERR_MODULE_INVALID: [^\n]*\n {2}- "picky": WAFER_ERR_FILTER_CONFIG: /)
  assert.deepEqual((line.reload as FailedReport).error, report.error)
  assert.equal(await (await fetch(`${url}/v`)).text(), 'ok', 'the running version keeps serving')
})
