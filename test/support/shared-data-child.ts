// A process of its own for the cross-process shared-data tests (test/e2e/proxy-wasm-shared-redis.test.ts,
// proxy-wasm-solo-redis.test.ts; started by startSharedDataChild in shared-data-process.ts):
// Fastify with the Wafer plugin, a shared-data filter and a RedisStore. Prints `{"url": ...}`
// when it listens; closes on SIGTERM.
//   node --import tsx test/support/shared-data-child.ts <redis url> <key prefix> <module> <barrier> [root id]
import Fastify from 'fastify'
import wafer from '@wafer/fastify'
import { RedisStore } from '@wafer/redis-store'

const [url, keyPrefix, module, barrierText, rootId] = process.argv.slice(2) as [string, string, string, string, string | undefined]
const n = Number(barrierText)
const store = new RedisStore({ url, keyPrefix, sharedDataTimeoutMs: 1000 })
const app = Fastify()
await app.register(wafer, { filters: { shared: { module, pool: { max: n + 2 }, ...(rootId === undefined ? {} : { proxyWasm: { rootId } }) } }, store })
// Requests to /count wait until `n` have arrived: every request phase (the read) runs before any
// response phase (the CAS write), in this process, while the other process does the same.
let arrived = 0
let release: () => void = () => {}
const all = new Promise<void>((resolve) => { release = resolve })
app.get('/count', { config: { wafer: { chain: ['shared'] } } }, async () => {
  if (++arrived >= n) release()
  await all
  return { ok: true }
})
app.get('/op', { config: { wafer: { chain: ['shared'] } } }, async () => ({ ok: true }))
const listening = await app.listen({ port: 0, host: '127.0.0.1' })
process.stdout.write(`${JSON.stringify({ url: listening })}\n`)
process.on('SIGTERM', () => { void app.close().then(() => process.exit(0)) })
