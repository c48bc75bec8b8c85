// What Express routing does with filters: rewrites before routing, routers, mount paths.
import assert from 'node:assert/strict'
import { test, type TestContext } from 'node:test'
import express5 from 'express'
import express4 from 'express4'
import { createWaferMiddleware, type WaferMiddleware } from '../src/index.ts'
import { captureLogger, exampleFilter, fixture, silent } from '../../../test/support/index.ts'
import { listen } from './support/app.ts'

async function middleware (t: TestContext, prefix: { from: string, to: string }, logger = silent): Promise<WaferMiddleware> {
  const mw = await createWaferMiddleware({
    filters: {
      rewrite: { module: exampleFilter('rewrite'), config: { prefix } },
      rewritePath: { module: fixture('rewrite-path') },
      stamp: { module: fixture('stamp') }
    },
    logger
  })
  t.after(() => mw.close())
  return mw
}

const echo: express5.RequestHandler = (req, res) => {
  res.json({ url: req.url, originalUrl: req.originalUrl, baseUrl: req.baseUrl, query: req.query })
}

// Express 4 and 5 route differently (req.query, mount paths); the middleware supports both.
for (const [version, express] of [['5', express5], ['4', express4]] as const) {
  test(`Express ${version}: a rewrite happens before routing: the rewritten path picks the route`, async (t) => {
    const mw = await middleware(t, { from: '/old/', to: '/new/' })
    const app = express()
    app.use(mw.chain(['rewrite']))
    app.get('/old/:id', (_req, res) => { res.send('old route') })
    app.get('/new/:id', (req, res) => { res.json({ id: req.params.id, url: req.url, originalUrl: req.originalUrl }) })
    const res = await fetch(`${await listen(t, app)}/old/7?x=1`)
    assert.deepEqual(await res.json(), { id: '7', url: '/new/7?x=1', originalUrl: '/old/7?x=1' })
  })

  test(`Express ${version}: a rewritten query is what req.query parses`, async (t) => {
    const mw = await middleware(t, { from: '/', to: '/' })
    const app = express()
    app.use(mw.chain(['rewritePath']))
    app.get('/rewritten', echo)
    const res = await fetch(`${await listen(t, app)}/anything?q=0&other=1`)
    assert.deepEqual(await res.json(), { url: '/rewritten?q=1', originalUrl: '/anything?q=0&other=1', baseUrl: '', query: { q: '1' } })
  })

  test(`Express ${version}: a chain on a mounted router sees the whole path, and rewrites within the mount path`, async (t) => {
    const mw = await middleware(t, { from: '/api/v1/', to: '/api/v2/' })
    const router = express.Router()
    router.use(mw.chain(['rewrite', 'stamp']))
    router.get('/v2/items', echo)
    const app = express()
    app.use('/api', router)
    app.get('/other', (req, res) => { res.json({ stamp: req.headers['x-stamp'] ?? null }) })
    const url = await listen(t, app)
    const res = await fetch(`${url}/api/v1/items?page=2`)
    assert.equal(res.headers.get('x-stamped'), 'a')
    assert.deepEqual(await res.json(), { url: '/v2/items?page=2', originalUrl: '/api/v1/items?page=2', baseUrl: '/api', query: { page: '2' } })
    const other = await fetch(`${url}/other`)
    assert.equal(other.headers.get('x-stamped'), null, 'outside the router, no chain')
    assert.deepEqual(await other.json(), { stamp: null })
  })

  test(`Express ${version}: at the mount path itself, filters see the path as received (no slash added)`, async (t) => {
    const mw = await middleware(t, { from: '/api', to: '/api/root' })
    const app = express()
    app.use('/api', mw.chain(['rewrite']), echo)
    const res = await fetch(`${await listen(t, app)}/api`)
    assert.deepEqual(await res.json(), { url: '/root', originalUrl: '/api', baseUrl: '/api', query: {} })
  })

  test(`Express ${version}: a rewrite out of the router a chain runs in: 500, and the log line says why`, async (t) => {
    const log = captureLogger('error')
    const mw = await middleware(t, { from: '/api/', to: '/internal/' }, log.logger)
    const router = express.Router()
    router.use(mw.chain(['rewrite']))
    router.get('/items', echo)
    const app = express()
    app.use('/api', router)
    const res = await fetch(`${await listen(t, app)}/api/items`)
    assert.equal(res.status, 500)
    assert.deepEqual(await res.json(), {
      statusCode: 500, code: 'WAFER_ERR_MIDDLEWARE_ORDER', error: 'Internal Server Error', message: 'A filter rewrote the path outside the router it runs in'
    })
    assert.ok(log.lines.some((l) => l.reqId === 'req-1' && /rewrote the path to \/internal\/items, outside \/api/.test(l.msg)))
  })

  test(`Express ${version}: routes registered before the middleware run no filters`, async (t) => {
    const mw = await middleware(t, { from: '/', to: '/' })
    const app = express()
    app.get('/health', (_req, res) => { res.send('ok') })
    app.use(mw.chain(['stamp']))
    app.get('/x', (_req, res) => { res.send('x') })
    const url = await listen(t, app)
    assert.equal((await fetch(`${url}/health`)).headers.get('x-stamped'), null)
    assert.equal((await fetch(`${url}/x`)).headers.get('x-stamped'), 'a')
  })
}
