import assert from 'node:assert/strict'
import { join } from 'node:path'
import { test } from 'node:test'
import Fastify from 'fastify'
import wafer from '../src/index.ts'
import { captureLogger, exampleFilter, fixture, root } from '../../../test/support/index.ts'

test('a gateway config file inside your own Fastify app: its filters, chains and routes, next to your routes', async (t) => {
  const app = Fastify({ loggerInstance: captureLogger('warn').logger })
  t.after(() => app.close())
  await app.register(wafer, { config: join(root, 'examples/gateway/gateway.yaml'), chain: 'public' })
  app.get('/mine', async (req) => ({ id: req.headers['x-request-id'] }))
  assert.deepEqual((await app.inject('/health')).json(), { ok: true }, 'a config route answered locally')
  assert.equal((await app.inject('/api/items')).statusCode, 401, 'a config route runs its chain before proxying')
  const mine = await app.inject('/mine')
  assert.match(mine.json().id, /^[0-9a-f-]{36}$/, 'the app route got the named chain from the config')
  assert.deepEqual(Object.keys(app.wafer.status().chains).sort(), ['api', 'public', 'route#0', 'route#1'], 'declared chains and each config route\'s chain')
})

test('a config object works the same, limits and capabilities included', async (t) => {
  const log = captureLogger('warn')
  const app = Fastify({ loggerInstance: log.logger })
  t.after(() => app.close())
  await app.register(wafer, {
    config: {
      filters: { stamp: { module: fixture('stamp'), limits: { fuel: 100000 }, capabilities: ['log'] } },
      routes: [{ match: { path: '/s', type: 'exact' }, chain: ['stamp'], respond: { status: 200, body: 'static' } }]
    }
  })
  const res = await app.inject('/s')
  assert.equal(res.body, 'static')
  assert.equal(res.headers['x-stamped'], 'a')
})

test('config and filters together are refused', async () => {
  const app = Fastify()
  await assert.rejects(async () => { await app.register(wafer, { config: { filters: {} }, filters: { a: { module: exampleFilter('auth') } } }).ready() }, {
    code: 'WAFER_ERR_OPTIONS_INVALID', message: /either "config" or "filters"/
  })
})

test('a broken config fails registration with WAFER_ERR_CONFIG_INVALID listing the problems', async () => {
  const app = Fastify()
  await assert.rejects(async () => { await app.register(wafer, { config: { filters: { a: { modul: 'x.wasm' } } } as never }).ready() }, {
    code: 'WAFER_ERR_CONFIG_INVALID', message: /\/filters\/a\/modul: unknown key/
  })
})
