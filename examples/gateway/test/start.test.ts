// The README's first quick-start command ends by running start.mjs: run it the same way.
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { fileURLToPath } from 'node:url'
import { test } from 'node:test'

test('the gateway demo: 401 without a key, 200 with the rewritten path echoed, 429 past the limit, status', async (t) => {
  const child = spawn(process.execPath, [fileURLToPath(new URL('../start.mjs', import.meta.url))], {
    env: { ...process.env, PORT: '0', ADMIN_PORT: '0', ECHO_PORT: '0' }, stdio: ['ignore', 'pipe', 'pipe']
  })
  t.after(() => child.kill('SIGKILL'))
  let out = ''
  child.stdout.setEncoding('utf8')
  child.stderr.setEncoding('utf8')
  child.stderr.on('data', (c: string) => { out += c })
  const { base, admin } = await new Promise<{ base: string, admin: string }>((resolve, reject) => {
    child.stdout.on('data', (chunk: string) => {
      out += chunk
      const m = /curl -i (http:\/\/127\.0\.0\.1:\d+)\/api\/items\n/.exec(out)
      const a = /curl -s (http:\/\/127\.0\.0\.1:\d+)\/_wafer\/status/.exec(out)
      if (m?.[1] !== undefined && a?.[1] !== undefined) resolve({ base: m[1], admin: a[1] })
    })
    child.once('exit', (code) => reject(new Error(`start.mjs exited with ${String(code)}:\n${out}`)))
  })

  assert.equal((await fetch(`${base}/api/items`)).status, 401)
  const ok = await fetch(`${base}/api/items?page=2`, { headers: { 'x-api-key': 'demo-key' } })
  assert.equal(ok.status, 200)
  const echoed = await ok.json() as { path: string, headers: Record<string, string> }
  assert.equal(echoed.path, '/internal/items?page=2')
  assert.equal(echoed.headers['x-gateway'], 'wafer')
  assert.equal(echoed.headers['x-auth-subject'], 'demo')
  assert.equal(ok.headers.get('x-served-by'), 'wafer-gateway')
  const codes: number[] = []
  for (let i = 0; i < 5; i++) codes.push((await fetch(`${base}/api/items`, { headers: { 'x-api-key': 'demo-key' } })).status)
  assert.deepEqual(codes, [200, 200, 200, 200, 429])
  const status = await (await fetch(`${admin}/_wafer/status`)).json() as { filters: unknown[] }
  assert.equal(status.filters.length, 4)

  const exit = once(child, 'exit')
  child.kill('SIGTERM')
  assert.deepEqual((await exit)[0], 0)
})
