// A guest that pauses again on every resume used to run forever: with a store that answers at
// once the event loop was held (every route stopped), with a store that answers later the
// request never ended and kept its instance. Fuel and timeoutMs were per call and per wait.
// Now a phase has one fuel budget, a resume cap and one deadline (docs/abi.md, docs/config.md).
import assert from 'node:assert/strict'
import { test } from 'node:test'
import Fastify from 'fastify'
import type { KvStore } from '@wafer/core'
import wafer from '@wafer/fastify'
import type { FilterLimits } from '@wafer/core'
import { captureLogger, fixture, type LogLine } from '../support/index.ts'
import { delayedStore } from '../support/stores.ts'

async function serve (limits: FilterLimits, store?: KvStore, failurePolicy: 'fail-closed' | 'fail-open' = 'fail-closed') {
  const log = captureLogger('info')
  const app = Fastify({ loggerInstance: log.logger })
  await app.register(wafer, {
    filters: { forever: { module: fixture('pause-forever'), limits, failurePolicy, pool: { min: 1, max: 4 } } },
    ...(store === undefined ? {} : { store })
  })
  app.get('/loop', { config: { wafer: { chain: ['forever'] } } }, async () => ({ route: 'loop' }))
  app.get('/ok', { config: { wafer: false } }, async () => ({ route: 'ok' }))
  const base = await app.listen({ port: 0, host: '127.0.0.1' })
  return { app, base, lines: log.lines }
}

interface Outcome { at: number, status: number, body: Record<string, unknown> }

let clock = 0
async function get (url: string): Promise<Outcome> {
  const res = await fetch(url)
  const body = await res.json() as Record<string, unknown>
  return { at: ++clock, status: res.status, body }
}

function failureLine (lines: LogLine[], code: string): LogLine | undefined {
  return lines.find((l) => l.filter === 'forever' && (l.err as { code?: string } | undefined)?.code === code)
}

function failures (app: Awaited<ReturnType<typeof serve>>['app']): Record<string, number> {
  const status = app.wafer.status().filters.find((f) => f.name === 'forever')
  assert.ok(status !== undefined)
  return status.failuresByReason
}

test('in-memory store (answers at once): the resume cap ends the phase and the server keeps serving', async (t) => {
  // The store answers inside kv_get, so the guest loops in one entry; limits.maxResumes also
  // caps the operations started in a phase, and operation 65 fails it.
  const { app, base, lines } = await serve({})
  t.after(() => app.close())
  const [loop, ok] = await Promise.all([get(`${base}/loop`), get(`${base}/ok`)])
  assert.equal(loop.status, 503)
  assert.deepEqual([loop.body.code, loop.body.filter, loop.body.reason], ['WAFER_ERR_FILTER_RESUMES', 'forever', 'resumes'])
  assert.deepEqual([ok.status, ok.body.route], [200, 'ok'])
  const line = failureLine(lines, 'WAFER_ERR_FILTER_RESUMES')
  assert.ok(line, 'the failure is logged with its code and filter')
  assert.match(String((line.err as { message: string }).message), /64 resumes/)
  assert.equal(failures(app).resumes, 1)
  // The instance that overran is discarded, and the next request gets a fresh one and the same answer.
  assert.equal((await get(`${base}/loop`)).body.code, 'WAFER_ERR_FILTER_RESUMES')
  assert.ok(app.wafer.status().filters[0]!.pool.created >= 2, 'the overrun instance was replaced')
})

test('a store that answers on the next tick: the resume cap ends the request, other routes answer meanwhile', async (t) => {
  const { app, base, lines } = await serve({ maxResumes: 500 }, delayedStore(1).store)
  t.after(() => app.close())
  const loop = get(`${base}/loop`)
  const ok = await get(`${base}/ok`)
  const done = await loop
  assert.deepEqual([ok.status, ok.body.route], [200, 'ok'])
  assert.ok(ok.at < done.at, 'the other route answered while the looping request was still running')
  assert.equal(done.status, 503)
  assert.equal(done.body.code, 'WAFER_ERR_FILTER_RESUMES')
  assert.ok(failureLine(lines, 'WAFER_ERR_FILTER_RESUMES'))
})

test('limits.timeoutMs bounds the whole phase, not each wait', async (t) => {
  // Every wait is 5 ms, far under the deadline; only their sum passes it.
  const { app, base, lines } = await serve({ maxResumes: 1_000_000, timeoutMs: 150 }, delayedStore(5).store)
  t.after(() => app.close())
  const res = await get(`${base}/loop`)
  assert.equal(res.status, 503)
  assert.deepEqual([res.body.code, res.body.reason], ['WAFER_ERR_FILTER_DEADLINE', 'deadline'])
  assert.ok(failureLine(lines, 'WAFER_ERR_FILTER_DEADLINE'))
  assert.equal(failures(app).deadline, 1)
})

test('fuel is a budget for the whole phase, summed over every resume', async (t) => {
  // One entry spins about 2,000 iterations, well inside 200,000 fuel; a few dozen do not fit.
  // A store that answers on the next tick, so that the guest pauses and is resumed each time.
  const { app, base, lines } = await serve({ maxResumes: 1_000_000, fuel: 200_000 }, delayedStore(0).store)
  t.after(() => app.close())
  const [loop, ok] = await Promise.all([get(`${base}/loop`), get(`${base}/ok`)])
  assert.equal(loop.status, 503)
  assert.deepEqual([loop.body.code, loop.body.reason], ['WAFER_ERR_FILTER_FUEL', 'fuel'])
  assert.equal(ok.status, 200)
  const line = failureLine(lines, 'WAFER_ERR_FILTER_FUEL')
  assert.ok(line)
  assert.match(String((line.err as { message: string }).message), /wafer_on_resume/, 'it ran out inside a resume, not in its first entry')
})

test('fail-open: a filter over its budget is skipped and the route answers', async (t) => {
  const { app, base, lines } = await serve({}, undefined, 'fail-open')
  t.after(() => app.close())
  const res = await get(`${base}/loop`)
  assert.deepEqual([res.status, res.body.route], [200, 'loop'])
  const line = failureLine(lines, 'WAFER_ERR_FILTER_RESUMES')
  assert.ok(line)
  assert.equal(line.level, 40, 'logged as a warning: the request went on')
})
