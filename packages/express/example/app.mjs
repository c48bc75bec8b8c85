import { fileURLToPath, pathToFileURL } from 'node:url'
import express from 'express'
import { createWaferMiddleware } from '@wafer/express'

// The example filters of this repository (`npm run build` compiles them).
const filter = (name) => fileURLToPath(new URL(`../../../examples/filters/${name}/build/${name}.wasm`, import.meta.url))

export async function build (options = {}) {
  // Resolves once every filter is loaded: a bad module fails here, naming the file.
  const wafer = await createWaferMiddleware({
    filters: {
      'request-id': { module: filter('request-id') },
      auth: { module: filter('auth'), config: { mode: 'api-key', keys: ['demo-key'], subjects: ['demo'] } },
      rewrite: { module: filter('rewrite'), config: { prefix: { from: '/api/', to: '/internal/' } } },
      'rate-limit': { module: filter('rate-limit'), config: { limit: options.limit ?? 5, windowMs: 60_000, key: 'header:x-auth-subject' } }
    },
    chains: { public: ['request-id'] },
    chain: ['request-id', 'auth', 'rewrite', 'rate-limit'],   // what app.use(wafer) runs
    ...(options.logger === undefined ? {} : { logger: options.logger })
  })

  const app = express()
  // Declared before app.use(wafer), so the global chain does not run: only its own.
  app.get('/health', wafer.chain('public'), (req, res) => { res.json({ ok: true, id: req.headers['x-request-id'] }) })
  app.use(wafer)
  app.use(express.json())   // after Wafer: parsers read the body the filters leave
  // Filters run before routing: /api/items was rewritten to /internal/items, and routed so.
  app.all('/internal/{*rest}', (req, res) => {
    res.json({ path: req.url, subject: req.headers['x-auth-subject'], body: req.body ?? null })
  })
  return { app, wafer }
}

// `node example/app.mjs` serves it.
if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const { app, wafer } = await build()
  const server = app.listen(Number(process.env.PORT ?? 3000), '127.0.0.1', () => {
    const { port } = server.address()
    console.log(`curl -i http://127.0.0.1:${port}/api/items                           # 401`)
    console.log(`curl -i -H 'x-api-key: demo-key' http://127.0.0.1:${port}/api/items  # 200`)
  })
  process.once('SIGTERM', () => server.close(() => wafer.close()))
}
