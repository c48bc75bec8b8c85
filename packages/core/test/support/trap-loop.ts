// Child process of sandbox-rss.test.ts: N trapping requests, RSS before and after (after GC).
import { createWafer, Exchange } from '../../src/index.ts'
import { fixture, silent } from '../../../../test/support/index.ts'

const n = Number(process.argv[2] ?? 10_000)
const gc = (globalThis as { gc?: () => void }).gc ?? (() => {})
const w = await createWafer({ logger: silent, filters: { t: { module: fixture('trap'), breaker: { failures: 0 } } } })
const chain = w.compose(['t'])
const run = async (count: number): Promise<number> => {
  let traps = 0
  for (let i = 0; i < count; i++) {
    const d = await chain.runRequest(new Exchange({ id: `r${i}`, method: 'GET', url: '/', headers: { host: 'x' }, remoteAddress: '127.0.0.1', log: silent }))
    if (d.respond && d.response?.status === 503) traps++
  }
  return traps
}
await run(500) // warm-up: JIT, pools, allocator
gc()
const before = process.memoryUsage().rss
const traps = await run(n)
gc()
const after = process.memoryUsage().rss
console.log(JSON.stringify({ before, after, traps, created: w.filter('t')?.status().pool.created }))
await w.close()
