// The README's example, which is example/app.mjs verbatim, does what the README says.
import assert from 'node:assert/strict'
import { readFile } from 'node:fs/promises'
import { test } from 'node:test'
import type { Express } from 'express'
import type { WaferMiddleware } from '../src/index.ts'
// @ts-expect-error the example is plain JavaScript, kept runnable without a build step
import { build } from '../example/app.mjs'
import { silent } from '../../../test/support/index.ts'
import { listen } from './support/app.ts'

test('the README shows example/app.mjs as it is', async () => {
  const readme = await readFile(new URL('../README.md', import.meta.url), 'utf8')
  const example = await readFile(new URL('../example/app.mjs', import.meta.url), 'utf8')
  assert.ok(readme.includes(example.trim()), 'copy example/app.mjs into README.md')
})

test('the example: 401 without a key, the rewritten path with one, 429 past the limit, /health on its own chain', async (t) => {
  const { app, wafer } = await build({ logger: silent, limit: 2 }) as { app: Express, wafer: WaferMiddleware }
  t.after(() => wafer.close())
  const url = await listen(t, app)
  assert.equal((await fetch(`${url}/api/items`)).status, 401)
  const key = { 'x-api-key': 'demo-key', 'content-type': 'application/json' }
  const ok = await fetch(`${url}/api/items`, { method: 'POST', headers: key, body: '{"n":1}' })
  assert.equal(ok.status, 200)
  assert.deepEqual(await ok.json(), { path: '/internal/items', subject: 'demo', body: { n: 1 } })
  assert.equal((await fetch(`${url}/api/items`, { headers: key })).status, 200)
  const limited = await fetch(`${url}/api/items`, { headers: key })
  assert.equal(limited.status, 429)
  assert.ok(Number(limited.headers.get('retry-after')) >= 1)
  const health = await fetch(`${url}/health`)
  assert.equal(health.status, 200, 'no API key needed')
  assert.match((await health.json() as { id: string }).id, /^[0-9a-f-]{36}$/)
})
