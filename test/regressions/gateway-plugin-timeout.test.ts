// `wafer serve` registered the Wafer plugin under Fastify's default 10 s plugin timeout, and
// registering it loads (and, on a cold instrumentation cache, instruments) every filter: a large
// config failed to start with AVV_ERR_PLUGIN_EXEC_TIMEOUT. The gateway turns the timeout off;
// loading has its own bounds (coded errors, fuel for start functions and wafer_init).
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { Gateway } from '@wafer/gateway'
import { captureLogger, exampleFilter } from '../support/index.ts'

test('the gateway does not give filter loading Fastify\'s 10 s plugin timeout', async (t) => {
  const { logger, lines } = captureLogger('info')
  const gw = await Gateway.create({
    config: {
      admin: { enabled: false },
      filters: { rid: { module: exampleFilter('request-id') } },
      routes: [{ match: { path: '/health', type: 'exact' }, chain: ['rid'], respond: { status: 200, body: 'ok' } }]
    } as never,
    port: 0,
    logger
  })
  t.after(() => gw.close())
  assert.equal(gw.app.initialConfig.pluginTimeout, 0)
  const { url } = await gw.listen()
  const res = await fetch(`${url}/health`)
  assert.equal(res.status, 200)
  assert.ok(lines.some((l) => /filter "rid" loaded/.test(l.msg)))
})
