// The quick start's first command ends by running server.mjs: start it the same way.
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { fileURLToPath } from 'node:url'
import { test } from 'node:test'

test('server.mjs listens, prints working curl lines, and stops cleanly on SIGTERM', async (t) => {
  const server = spawn(process.execPath, [fileURLToPath(new URL('../server.mjs', import.meta.url))], {
    env: { ...process.env, PORT: '0' }, stdio: ['ignore', 'pipe', 'pipe']
  })
  t.after(() => server.kill('SIGKILL'))
  let out = ''
  server.stdout.setEncoding('utf8')
  const base = await new Promise<string>((resolve, reject) => {
    server.stdout.on('data', (chunk: string) => {
      out += chunk
      const m = /curl -i (http:\/\/127\.0\.0\.1:\d+)\/api\/items/.exec(out)
      if (m?.[1] !== undefined) resolve(m[1])
    })
    server.once('exit', (code) => reject(new Error(`server exited with ${String(code)} before listening:\n${out}`)))
  })
  assert.match(out, /429 once the key has used its 5 requests/)
  assert.equal((await fetch(`${base}/api/items`)).status, 401)
  assert.equal((await fetch(`${base}/api/items`, { headers: { 'x-api-key': 'demo-key' } })).status, 200)
  const exit = once(server, 'exit')
  server.kill('SIGTERM')
  const [code] = await exit
  assert.equal(code, 0)
})
