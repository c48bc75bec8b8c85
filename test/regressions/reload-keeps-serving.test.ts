// Instrumenting a module for the sandbox (binaryen) took seconds of synchronous work on the main
// thread, so a reload that brought a large new module stopped the server from answering until it
// was done. It runs on a worker thread now: requests are answered while the module is prepared.
import assert from 'node:assert/strict'
import { mkdtemp, readdir, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import Fastify from 'fastify'
import wafer from '@wafer/fastify'
import { captureLogger, fixture, type LogLine, useCacheDir } from '../support/index.ts'
import { bigModule } from '../support/big-module.mjs'

/** Resolves with the first line matching `re`, or undefined once `done` has settled without one. */
async function lineOrSettled (lines: LogLine[], re: RegExp, done: { settled: boolean }): Promise<LogLine | undefined> {
  for (;;) {
    const line = lines.find((l) => re.test(l.msg))
    if (line !== undefined || done.settled) return line
    await new Promise((resolve) => setImmediate(resolve))
  }
}

test('while a reload instruments a 3 MB module, the server keeps answering other routes', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'wafer-reload-serving-'))
  const cache = join(dir, 'cache')
  useCacheDir(t, cache)
  const big = join(dir, 'big.wasm')
  await writeFile(big, bigModule({ bytes: 3_000_000 }))

  const { logger, lines } = captureLogger()
  const app = Fastify({ loggerInstance: logger })
  t.after(() => app.close())
  await app.register(wafer, { filters: { tag: { module: fixture('variant-a') } }, chain: ['tag'] })
  app.get('/ping', async (request) => ({ pong: true, variant: request.headers['x-variant'] }))
  const url = await app.listen({ port: 0, host: '127.0.0.1' })

  const entries = async (): Promise<string[]> => (await readdir(cache).catch(() => [])).filter((f) => f.endsWith('.wasm'))
  const before = await entries()
  const done = { settled: false }
  const reloading = app.wafer.reload({ filters: { tag: { module: fixture('variant-a') }, big: { module: big } } })
  void reloading.finally(() => { done.settled = true })

  const started = await lineOrSettled(lines, /instrumenting .*big\.wasm/, done)
  assert.ok(started !== undefined, 'the reload instruments the new module')
  const res = await fetch(`${url}/ping`)
  assert.equal(res.status, 200)
  assert.deepEqual(await res.json(), { pong: true, variant: 'a' }, 'through the current chain')
  assert.equal(done.settled, false, 'answered while the reload was still preparing the module')
  assert.deepEqual(await entries(), before, 'before the instrumented module was written')

  const report = await reloading
  assert.equal(report.outcome, 'applied')
  assert.equal((await entries()).length, before.length + 1, 'the instrumented module is cached')
  assert.equal(app.wafer.filter('big')?.state, 'ready')
})
