// Filter and adapter options were validated by hand in three places with defaults copied
// between them, and the answers differed: the Fastify plugin ignored `watch: 'yes'` while the
// Express middleware refused it, a bad `moduleCacheSize` surfaced as lru-cache's uncoded
// TypeError, a config file's `limits.fuel: -1` was "must be any JSON value", and the Express
// middleware refused `logger: false`. Now one schema and one validator answer for createWafer,
// both adapters and the config file: a coded error whose `errors` name the same JSON path.
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { mkdtemp, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { promisify } from 'node:util'
import { createWafer, loadConfig, type ConfigProblem } from '@wafer/core'
import { createWaferMiddleware, wafer as expressWafer } from '@wafer/express'
import fastifyWafer from '@wafer/fastify'
import express from 'express'
import Fastify from 'fastify'
import { captureLogger, fixture, root, silent } from '../support/index.ts'

const module = fixture('stamp')

interface Row {
  /** What is wrong. */
  name: string
  /** Merged into `{ filters: { f: { module } } }`, with `f` replaced when the row gives filters. */
  options: Record<string, unknown>
  /** The JSON pointer every programmatic path names. */
  path: string
  /** The same mistake in a gateway config file, and where that names it; absent when a file has no such setting. */
  config?: { value: Record<string, unknown>, path: string }
}

const rows: Row[] = [
  { name: 'watch: "yes"', options: { watch: 'yes' }, path: '/watch', config: { value: { reload: { watch: 'yes' } }, path: '/reload/watch' } },
  { name: 'moduleCacheSize: -1', options: { moduleCacheSize: -1 }, path: '/moduleCacheSize' },
  { name: 'moduleCacheSize: "x"', options: { moduleCacheSize: 'x' }, path: '/moduleCacheSize' },
  {
    name: 'pool.min above pool.max',
    options: { filters: { f: { module, pool: { min: 5, max: 2 } } } },
    path: '/filters/f/pool/min',
    config: { value: { filters: { f: { module: 'f.wasm', pool: { min: 5, max: 2 } } } }, path: '/filters/f/pool/min' }
  },
  {
    name: 'failurePolicy: "fail-opne"',
    options: { filters: { f: { module, failurePolicy: 'fail-opne' } } },
    path: '/filters/f/failurePolicy',
    config: { value: { filters: { f: { module: 'f.wasm', failurePolicy: 'fail-opne' } } }, path: '/filters/f/failurePolicy' }
  },
  {
    name: 'limits.fuel: -1',
    options: { filters: { f: { module, limits: { fuel: -1 } } } },
    path: '/filters/f/limits/fuel',
    config: { value: { filters: { f: { module: 'f.wasm', limits: { fuel: -1 } } } }, path: '/filters/f/limits/fuel' }
  },
  {
    name: 'an unknown filter option',
    options: { filters: { f: { module, confg: {} } } },
    path: '/filters/f/confg',
    config: { value: { filters: { f: { module: 'f.wasm', confg: {} } } }, path: '/filters/f/confg' }
  },
  { name: 'an unknown option', options: { chian: ['f'] }, path: '/chian', config: { value: { chian: ['f'] }, path: '/chian' } }
]

type Coded = Error & { code: string, errors?: readonly ConfigProblem[] }

/** The problem an error reports at `path`, after checking it is coded and names the path in its message. */
function problemAt (err: unknown, path: string, codes: readonly string[]): ConfigProblem {
  const e = err as Coded
  assert.ok(codes.includes(e.code), `expected ${codes.join(' or ')}, got ${e.code}: ${e.message}`)
  const problem = e.errors?.find((p) => p.path === path)
  assert.ok(problem !== undefined, `no problem at ${path} in ${JSON.stringify(e.errors)}`)
  assert.ok(e.message.includes(`${path}: ${problem.message}`), e.message)
  return problem
}

/** A problem's message, without the list of allowed keys (each API has its own). */
const answer = (p: ConfigProblem): string => p.message.replace(/ \(allowed: [^)]*\)$/, ' (allowed: ...)')

async function failure (run: () => Promise<unknown>): Promise<unknown> {
  try {
    await run()
  } catch (err) {
    return err
  }
  return assert.fail('expected the options to be refused')
}

const OPTIONS = ['WAFER_ERR_OPTIONS_INVALID']

for (const row of rows) {
  test(`${row.name}: createWafer, the Fastify plugin, the Express middleware and the config file name ${row.path}`, async () => {
    const options = { filters: { f: { module } }, ...row.options }

    const runtime = problemAt(await failure(async () => createWafer({ logger: silent, ...options } as never)), row.path, OPTIONS)

    const app = Fastify({ logger: false })
    const plugin = problemAt(await failure(async () => { await app.register(fastifyWafer, options as never).ready() }), row.path, OPTIONS)
    await app.close()

    // Synchronously, where wafer() is called, and through createWaferMiddleware.
    const sync = problemAt(await failure(async () => expressWafer(options as never)), row.path, OPTIONS)
    const middleware = problemAt(await failure(async () => createWaferMiddleware(options as never)), row.path, OPTIONS)

    assert.equal(answer(plugin), answer(sync), 'the adapters give the same answer')
    assert.equal(answer(middleware), answer(sync))
    // createWafer has no adapter options (watch): for it, that key is unknown; otherwise the same answer.
    if (row.path !== '/watch') assert.equal(answer(runtime), answer(plugin), 'createWafer gives the adapters\' answer')

    if (row.config !== undefined) {
      const file = problemAt(await failure(async () => loadConfig({ filters: { f: { module: 'f.wasm' } }, ...row.config?.value })),
        row.config.path, ['WAFER_ERR_CONFIG_INVALID'])
      assert.equal(answer(file), answer(plugin), 'a config file gets the same answer as code')
    }
  })
}

test('wafer validate prints the same answers for the same mistakes in a file, and exits 1', async () => {
  const withConfig = rows.filter((r) => r.config !== undefined)
  const file = join(await mkdtemp(join(tmpdir(), 'wafer-options-')), 'gateway.json')
  const merged: Record<string, Record<string, unknown>> = { filters: {} }
  withConfig.forEach((row, i) => {
    for (const [key, value] of Object.entries(row.config?.value ?? {})) {
      // Each row's filter gets its own name, so one file holds every mistake.
      if (key === 'filters') merged.filters = { ...merged.filters, [`f${i}`]: (value as { f: unknown }).f }
      else merged[key] = { ...merged[key], ...(value as object) }
    }
  })
  await writeFile(file, JSON.stringify(merged))
  const run = await promisify(execFile)(process.execPath, [join(root, 'packages/gateway/dist/cli.js'), 'validate', '--config', file])
    .then(() => assert.fail('wafer validate accepted the file'), (err: { code: number, stderr: string }) => err)
  assert.equal(run.code, 1)
  for (const [i, row] of withConfig.entries()) {
    const path = (row.config?.path ?? '').replace('/filters/f/', `/filters/f${i}/`)
    const programmatic = problemAt(await failure(async () => expressWafer({ filters: { f: { module } }, ...row.options } as never)), row.path, OPTIONS)
    const expected = answer(programmatic).replace(' (allowed: ...)', '')
    assert.ok(run.stderr.includes(`${path}: ${expected}`), `${path}: ${expected}\n${run.stderr}`)
  }
})

test('createWafer lists every problem at once, each with its path and the value found', async () => {
  const err = await failure(async () => createWafer({
    logger: silent,
    moduleCacheSize: 0,
    drainTimeoutMs: -1,
    filters: { f: { module, pool: { max: 0 }, breaker: { failures: 1.5 } } }
  }))
  assert.deepEqual((err as Coded).errors?.map((p) => [p.path, p.value]).sort(), [
    ['/drainTimeoutMs', -1],
    ['/filters/f/breaker/failures', 1.5],
    ['/filters/f/pool/max', 0],
    ['/moduleCacheSize', 0]
  ])
})

test('logger: false, the Fastify convention, is accepted by the Express middleware and the Fastify plugin', async (t) => {
  const filters = { stamp: { module } }
  const mw = await createWaferMiddleware({ filters, chain: ['stamp'], logger: false })
  t.after(() => mw.close())
  const app = express()
  app.use(mw)
  app.get('/', (req, res) => { res.json({ stamp: req.headers['x-stamp'] ?? null }) })
  const server = app.listen(0, '127.0.0.1')
  t.after(() => { server.close() })
  await new Promise((resolve) => server.once('listening', resolve))
  const { port } = server.address() as { port: number }
  assert.deepEqual(await (await fetch(`http://127.0.0.1:${port}/`)).json(), { stamp: 'a' })

  const fastify = Fastify()
  t.after(() => fastify.close())
  await fastify.register(fastifyWafer, { filters, chain: ['stamp'], logger: false })
  fastify.get('/', async (req) => ({ stamp: req.headers['x-stamp'] ?? null }))
  assert.deepEqual((await fastify.inject('/')).json(), { stamp: 'a' })
})

test('the plugin\'s runtime logs through the app\'s logger unless told otherwise', async (t) => {
  const log = captureLogger('info')
  const fastify = Fastify({ loggerInstance: log.logger })
  t.after(() => fastify.close())
  await fastify.register(fastifyWafer, { filters: { stamp: { module } } })
  await fastify.ready()
  assert.ok(log.lines.some((l) => /filter "stamp" loaded/.test(l.msg)), 'the load line went to the app\'s logger')

  const quiet = captureLogger('info')
  const other = Fastify({ loggerInstance: quiet.logger })
  t.after(() => other.close())
  await other.register(fastifyWafer, { filters: { stamp: { module } }, logger: false })
  await other.ready()
  assert.equal(quiet.lines.filter((l) => /filter "stamp" loaded/.test(l.msg)).length, 0, 'logger: false: the runtime writes nothing')
})
