// Starts the example: an echo upstream and the gateway from gateway.yaml in front of it.
// Ports: PORT (gateway, 8080), ADMIN_PORT (9901), ECHO_PORT (3101); 0 picks a free one.
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { dirname, resolve } from 'node:path'
import { parse } from 'yaml'
import { Gateway } from '@wafer/gateway'
import { startEcho } from './echo-upstream.mjs'

const here = dirname(fileURLToPath(import.meta.url))
const env = (name, fallback) => (process.env[name] === undefined ? fallback : Number(process.env[name]))

const echo = await startEcho(env('ECHO_PORT', 3101))
// The config file names the echo service's default address; point it at the one just started.
const config = parse(readFileSync(resolve(here, 'gateway.yaml'), 'utf8'))
for (const f of Object.values(config.filters)) f.module = resolve(here, f.module)
for (const r of config.routes) if (r.upstream === 'http://127.0.0.1:3101') r.upstream = echo.url

let gateway
try {
  gateway = await Gateway.create({ config, port: env('PORT', undefined), adminPort: env('ADMIN_PORT', undefined) })
} catch (err) {
  console.error(err.message)
  echo.server.close()
  process.exit(1)
}
const { url, adminUrl } = await gateway.listen()
console.log(`
Wafer gateway on ${url} -> echo upstream ${echo.url}
chain for /api/: request-id -> auth -> rewrite -> rate-limit (5 requests/minute per client)

  # 401: no API key
  curl -i ${url}/api/items

  # 200: authenticated, /api/ rewritten to /internal/ (the echo shows the path it received)
  curl -i -H 'x-api-key: demo-key' ${url}/api/items

  # 429 once the client has used its 5 requests this minute
  for i in 1 2 3 4 5 6; do curl -s -o /dev/null -w '%{http_code}\\n' -H 'x-api-key: demo-key' ${url}/api/items; done

  # status and Prometheus metrics
  curl -s ${adminUrl}/_wafer/status
  curl -s ${adminUrl}/metrics | grep wafer_filter

Ctrl-C to stop.
`)
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.once(signal, async () => {
    await gateway.close()
    echo.server.close()
    process.exit(0)
  })
}
