import { build } from './app.mjs'

const app = await build()
// PORT=0 picks a free port; the lines below show the one actually bound.
const base = await app.listen({ port: Number(process.env.PORT ?? 3000), host: '127.0.0.1' })
console.log(`
Wafer example app on ${base}: request-id -> auth -> rewrite -> rate-limit (5 requests/minute per key)

  # 401: no API key
  curl -i ${base}/api/items

  # 200: the key is accepted, /api/ is rewritten to /internal/, a request id is added
  curl -i -H 'x-api-key: demo-key' ${base}/api/items

  # 429 once the key has used its 5 requests this minute
  for i in 1 2 3 4 5 6; do curl -s -o /dev/null -w '%{http_code}\\n' -H 'x-api-key: demo-key' ${base}/api/items; done

  # no auth on /health (its route chain is just request-id)
  curl -i ${base}/health

Ctrl-C to stop.
`)

for (const signal of ['SIGINT', 'SIGTERM']) {
  process.once(signal, () => { app.close().then(() => process.exit(0)) })
}
