// Issue 11.10: an admin listener bound beyond loopback (for Prometheus on the pod network)
// exposed POST /_wafer/reload to the whole network. State-changing admin endpoints now need
// admin.token when one is set, and are refused beyond loopback when none is.
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { mkdtemp, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { CLI, serve } from '../../packages/gateway/test/serve.ts'
import { fixture, type LogLine } from '../support/index.ts'

const TOKEN = 'a-test-token-0123456789abcdef'

async function configFile (admin: Record<string, unknown>): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'wafer-admin-token-'))
  const file = join(dir, 'gateway.json')
  await writeFile(file, JSON.stringify({
    server: { port: 0 },
    admin: { port: 0, ...admin },
    reload: { watch: false },
    filters: { noop: { module: fixture('noop') } },
    routes: [{ match: { path: '/v', type: 'exact' }, chain: ['noop'], respond: { status: 200, body: 'v' } }]
  }))
  return file
}

/** The admin listener over 127.0.0.1 whatever it is bound to. */
function local (adminUrl: string | undefined): string {
  const port = new URL(adminUrl as string).port
  return `http://127.0.0.1:${port}`
}

function logLines (output: string): LogLine[] {
  return output.split('\n').slice(0, -1).filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as LogLine)
}

async function reload (admin: string, authorization?: string): Promise<{ status: number, authenticate: string | null, body: { code?: string, message?: string, outcome?: string } }> {
  const res = await fetch(`${admin}/_wafer/reload`, { method: 'POST', headers: authorization === undefined ? {} : { authorization } })
  return { status: res.status, authenticate: res.headers.get('www-authenticate'), body: await res.json() as { code?: string, outcome?: string } }
}

async function readable (admin: string): Promise<void> {
  assert.equal((await fetch(`${admin}/_wafer/status`)).status, 200, 'status needs no token')
  const metrics = await fetch(`${admin}/metrics`)
  assert.equal(metrics.status, 200, 'metrics need no token')
  assert.match(await metrics.text(), /wafer_generation 1/)
}

test('admin on 0.0.0.0 without a token: reload refused with 403 and a startup warning saying why; status and metrics readable', async (t) => {
  const { adminUrl, output } = await serve(t, ['--config', await configFile({ host: '0.0.0.0' })])
  const admin = local(adminUrl)
  const refused = await reload(admin)
  assert.equal(refused.status, 403)
  assert.equal(refused.body.code, 'WAFER_ERR_ADMIN_FORBIDDEN')
  assert.match(refused.body.message ?? '', /0\.0\.0\.0, which is not a loopback address, and no admin\.token is set/)
  await readable(admin)
  const warning = logLines(output()).find((l) => l.level === 40 && l.code === 'WAFER_ERR_ADMIN_FORBIDDEN')
  assert.ok(warning !== undefined, `a startup warning:\n${output()}`)
  assert.match(warning.msg, /admin listener on 0\.0\.0\.0 is not a loopback address and admin\.token is not set: POST \/_wafer\/reload is refused/)
})

test('admin on 0.0.0.0 with a token from the environment: reload needs "Authorization: Bearer <token>"', async (t) => {
  const file = await configFile({ host: '0.0.0.0', token: { env: 'WAFER_TEST_ADMIN_TOKEN' } })
  const { adminUrl, output } = await serve(t, ['--config', file], { WAFER_TEST_ADMIN_TOKEN: `${TOKEN}\n` })
  const admin = local(adminUrl)
  const missing = await reload(admin)
  assert.equal(missing.status, 401)
  assert.equal(missing.body.code, 'WAFER_ERR_ADMIN_UNAUTHORIZED')
  assert.equal(missing.authenticate, 'Bearer realm="wafer-admin"')
  const wrong = await reload(admin, `Bearer ${TOKEN}x`)
  assert.equal(wrong.status, 401)
  assert.equal(wrong.body.code, 'WAFER_ERR_ADMIN_UNAUTHORIZED')
  assert.equal(wrong.authenticate, 'Bearer realm="wafer-admin", error="invalid_token"')
  const right = await reload(admin, `Bearer ${TOKEN}`)
  assert.equal(right.status, 200)
  assert.equal(right.body.outcome, 'unchanged')
  await readable(admin)
  assert.ok(!logLines(output()).some((l) => l.code === 'WAFER_ERR_ADMIN_FORBIDDEN'), 'no warning with a token')
  assert.doesNotMatch(output(), new RegExp(TOKEN), 'the token is never logged')
})

test('admin on loopback: no token, reloads allowed as before; a literal token, required', async (t) => {
  const open = await serve(t, ['--config', await configFile({ host: '127.0.0.1' })])
  assert.equal((await reload(local(open.adminUrl))).status, 200)
  assert.ok(!logLines(open.output()).some((l) => l.code === 'WAFER_ERR_ADMIN_FORBIDDEN'), 'no warning on loopback')

  const guarded = await serve(t, ['--config', await configFile({ host: '127.0.0.1', token: TOKEN })])
  const admin = local(guarded.adminUrl)
  assert.equal((await reload(admin)).status, 401)
  assert.equal((await reload(admin, `bearer ${TOKEN}`)).status, 200)
})

test('a token that cannot be used stops serve before it listens, naming the variable; validate checks the file only', async () => {
  const run = (file: string, command = 'serve'): Promise<{ code: number | null, stderr: string }> => new Promise((resolve) => {
    const env = { ...process.env }
    delete env.WAFER_TEST_ADMIN_TOKEN
    const child = spawn(process.execPath, [CLI, command, '--config', file], { stdio: ['ignore', 'ignore', 'pipe'], env })
    let stderr = ''
    child.stderr.on('data', (c: Buffer) => { stderr += c.toString() })
    child.on('close', (code) => resolve({ code, stderr }))
  })
  const fromEnv = await configFile({ host: '0.0.0.0', token: { env: 'WAFER_TEST_ADMIN_TOKEN' } })
  const unset = await run(fromEnv)
  assert.equal(unset.code, 1)
  assert.match(unset.stderr, /admin token \(admin\.token\): environment variable WAFER_TEST_ADMIN_TOKEN \(admin\.token\.env\) is not set or empty/)
  assert.equal((await run(fromEnv, 'validate')).code, 0, 'validate runs without the secret')
  const shortFile = await configFile({ token: 'short' })
  for (const command of ['serve', 'validate']) {
    const short = await run(shortFile, command)
    assert.equal(short.code, 1, command)
    assert.match(short.stderr, /the token in admin\.token has 5 characters; use at least 16/)
  }
})
