// A process of its own for proxy-wasm-solo-redis.test.ts: Fastify with the Wafer plugin, the
// @solo-io/proxy-runtime counter filter (proxy-solo-counter) and a RedisStore. Prints
// `{"url": ...}` when it listens; closes on SIGTERM.
//   node --import tsx test/e2e/proxy-wasm-solo-redis-child.ts <redis url> <key prefix> <module> <barrier>
import Fastify from 'fastify'
import wafer from '@wafer/fastify'
import { RedisStore } from '@wafer/redis-store'

const [url, keyPrefix, module, barrierText] = process.argv.slice(2) as [string, string, string, string]
const n = Number(barrierText)
const store = new RedisStore({ url, keyPrefix, sharedDataTimeoutMs: 1000 })
const app = Fastify({ logger: process.env.SOLO_CHILD_LOG === '1' ? { level: 'info', stream: process.stderr } : false })
await app.register(wafer, { filters: { counter: { module, pool: { max: n + 2 }, proxyWasm: { rootId: 'solo_counter' } } }, store })
// Requests to /count wait until `n` have arrived: every request phase (the read) runs before any
// response phase (the CAS write), in this process, while the other process does the same.
let arrived = 0
let release: () => void = () => {}
const all = new Promise<void>((resolve) => { release = resolve })
app.get('/count', { config: { wafer: { chain: ['counter'] } } }, async () => {
  if (++arrived >= n) release()
  await all
  return { ok: true }
})
app.get('/op', { config: { wafer: { chain: ['counter'] } } }, async () => ({ ok: true }))
const listening = await app.listen({ port: 0, host: '127.0.0.1' })
process.stdout.write(`${JSON.stringify({ url: listening })}\n`)
process.on('SIGTERM', () => { void app.close().then(() => process.exit(0)) })
