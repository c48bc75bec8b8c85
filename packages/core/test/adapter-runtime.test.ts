// The runtime both adapters create, reload and watch (runtime/adapter-runtime.ts), with real
// config and module files in a temp dir and a real pino logger whose JSON lines the test reads.
import assert from 'node:assert/strict'
import { copyFile, mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test, type TestContext } from 'node:test'
import { AdapterRuntime, createWafer, Exchange, MemoryStore, WaferError, type AdapterRuntimeSettings, type ReloadReport, type ResolvedConfig } from '../src/index.ts'
import { atomicWrite, captureLogger, fixture, silent, until, type LogLine } from '../../../test/support/index.ts'

const settings = (more: Partial<AdapterRuntimeSettings> = {}): AdapterRuntimeSettings =>
  ({ adapter: '@wafer/express', logger: silent, reloadWithoutConfig: 'reload() needs a config: the middleware was created without one', ...more })

/** A temp dir with the two variant modules as a.wasm and b.wasm, and a config naming `module` in chain `main`. */
async function workdir (t: TestContext): Promise<{ dir: string, file: string, write: (module: string, debounceMs?: number) => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'wafer-adapter-runtime-'))
  t.after(() => rm(dir, { recursive: true, force: true }))
  await copyFile(fixture('variant-a'), join(dir, 'a.wasm'))
  await copyFile(fixture('variant-b'), join(dir, 'b.wasm'))
  const file = join(dir, 'wafer.yaml')
  const write = (module: string, debounceMs = 20): Promise<void> => atomicWrite(file,
    `reload: { debounceMs: ${debounceMs}, drainTimeoutMs: 1234 }\nfilters:\n  v: { module: ./${module} }\nchains:\n  main: [v]\n`)
  await write('a.wasm')
  return { dir, file, write }
}

/** The variant the runtime's `main` chain stamps on a request. */
function serving (adapter: AdapterRuntime): unknown {
  const ex = new Exchange({ id: 'r', method: 'GET', url: '/', headers: {}, remoteAddress: '127.0.0.1', log: silent })
  adapter.runtime.chain('main').runRequest(ex)
  return ex.headers['x-variant']
}

test('from a config file: its filters, chains and drain timeout, with the given store and observer; reload() reads it again', async (t) => {
  const { file, write } = await workdir(t)
  const store = new MemoryStore()
  const reports: ReloadReport[] = []
  const adapter = await AdapterRuntime.create({ config: file, store, observer: { onReload: (r) => { reports.push(r) } }, moduleCacheSize: 2 }, settings())
  t.after(() => adapter.runtime.close())
  assert.equal(adapter.owned, true)
  assert.equal(adapter.config?.source, file)
  assert.equal(adapter.runtime.store, store)
  assert.deepEqual(adapter.runtime.status().chains, { main: ['v'] })
  assert.equal(serving(adapter), 'a')

  const held = adapter.runtime.enter()
  const first = adapter.runtime.filter('v')
  t.mock.timers.enable({ apis: ['setTimeout'] })
  await write('b.wasm')
  const report = await adapter.reload()
  assert.equal(report.outcome, 'applied')
  assert.deepEqual(reports, [report], 'the observer heard of it')
  assert.equal(serving(adapter), 'b')
  // The replaced version drains for the config's reload.drainTimeoutMs.
  t.mock.timers.tick(1233)
  assert.equal(first?.state, 'ready')
  t.mock.timers.tick(1)
  assert.equal(first?.state, 'closed')
  held.leave()
})

test('a reload that changes only reload.debounceMs is applied, and the file watch follows it', async (t) => {
  const { file, write } = await workdir(t)
  const adapter = await AdapterRuntime.create({ config: file }, settings())
  t.after(() => adapter.runtime.close())
  assert.deepEqual(adapter.runtime.generation.data, { debounceMs: 20 })
  await write('a.wasm', 75)
  const report = await adapter.reload()
  assert.equal(report.outcome, 'applied')
  assert.deepEqual(adapter.runtime.generation.data, { debounceMs: 75 }, 'the watch reads the serving version\'s debounce')
  assert.equal((await adapter.reload()).outcome, 'unchanged', 'the same config again changes nothing')
})

test('a reload that fails is logged, and the running version keeps serving', async (t) => {
  const { dir, file } = await workdir(t)
  const { logger, lines } = captureLogger()
  const adapter = await AdapterRuntime.create({ config: file }, settings({ logger }))
  t.after(() => adapter.runtime.close())
  await atomicWrite(join(dir, 'a.wasm'), '\0asm half-written')
  const report = await adapter.reload()
  assert.equal(report.outcome, 'failed')
  assert.equal(report.error?.code, 'WAFER_ERR_MODULE_INVALID')
  const failed = lines.find((l) => l.level === 50) as LogLine
  assert.match(failed.msg, /^reload failed; generation 1 keeps serving: /)
  assert.equal((failed.reload as ReloadReport).error?.code, 'WAFER_ERR_MODULE_INVALID')
  assert.equal(serving(adapter), 'a')
  assert.equal(adapter.runtime.generation.id, 1)
})

test('accept refuses a config at startup and on reload; definition builds each version, knowing the running config', async (t) => {
  const { file } = await workdir(t)
  const calls: Array<[string, string | undefined]> = []
  const refuse = (config: ResolvedConfig): void => {
    if (config.filters.v === undefined) throw new WaferError('WAFER_ERR_OPTIONS_INVALID', ['@wafer/express: no "v"'])
  }
  const adapter = await AdapterRuntime.create({ config: file }, settings({
    accept: refuse,
    definition: (config, running) => {
      calls.push([config.source, running?.source])
      return { filters: { v: { module: config.filters.v?.module as string } }, chains: { main: ['v'] }, data: { debounceMs: 5 } }
    }
  }))
  t.after(() => adapter.runtime.close())
  assert.deepEqual(adapter.runtime.generation.data, { debounceMs: 5 }, 'the definition given was used')

  const { logger, lines } = captureLogger()
  await assert.rejects(async () => AdapterRuntime.create({ config: { filters: { w: { module: fixture('noop') } } } }, settings({ accept: refuse, logger })),
    { code: 'WAFER_ERR_OPTIONS_INVALID', message: /no "v"/ })
  assert.deepEqual(lines, [], 'nothing was loaded')

  const report = await adapter.reload({ filters: { w: { module: fixture('noop') } } })
  assert.equal(report.outcome, 'failed')
  assert.match(report.error?.message ?? '', /no "v"/)
  assert.equal((await adapter.reload({ filters: { v: { module: fixture('variant-b') } } })).outcome, 'applied')
  assert.deepEqual(calls, [[file, undefined], ['<object>', file]])
  assert.equal(serving(adapter), 'b')
})

test('without a config: filters and chains; reload() fails naming the adapter; a given runtime comes at once and is not owned', async (t) => {
  const { logger, lines } = captureLogger()
  const adapter = await AdapterRuntime.create({ filters: { v: { module: fixture('variant-a') } }, chains: { main: ['v'] } }, settings({ logger }))
  t.after(() => adapter.runtime.close())
  assert.equal(adapter.config, undefined)
  assert.equal(adapter.runtime.logger, logger)
  const report = await adapter.reload()
  assert.equal(report.outcome, 'failed')
  assert.equal(report.error?.code, 'WAFER_ERR_OPTIONS_INVALID')
  assert.match(report.error?.message ?? '', /@wafer\/express: reload\(\) needs a config: the middleware was created without one/)
  assert.ok(lines.some((l) => l.level === 50 && l.msg.includes('reload() needs a config')))
  assert.throws(() => adapter.watch(silent), { code: 'WAFER_ERR_OPTIONS_INVALID', message: /@wafer\/express: "watch" needs "config" to be a file path/ })

  const runtime = await createWafer({ filters: { v: { module: fixture('variant-b') } }, chains: { main: ['v'] }, logger: silent })
  t.after(() => runtime.close())
  const given = AdapterRuntime.create({ wafer: runtime }, settings({ adapter: '@wafer/fastify', reloadWithoutConfig: 'waferReload() needs a config' }))
  assert.ok(given instanceof AdapterRuntime, 'no promise: nothing to wait for')
  assert.equal(given.owned, false)
  assert.equal(given.runtime, runtime)
  assert.match((await given.reload()).error?.message ?? '', /@wafer\/fastify: waferReload\(\) needs a config/)
  assert.equal((await given.reload({ filters: { v: { module: fixture('variant-a') } }, chains: { main: ['v'] } })).outcome, 'applied', 'a config passed to reload() applies')
  assert.equal(serving(given), 'a')
})

test('watch: a module only a failed reload named is watched, so fixing it reloads', async (t) => {
  const { dir, file, write } = await workdir(t)
  await atomicWrite(join(dir, 'c.wasm'), '\0asm half-written')
  const { logger, lines } = captureLogger()
  const reports: ReloadReport[] = []
  const adapter = await AdapterRuntime.create({ config: file, observer: { onReload: (r) => { reports.push(r) } } }, settings({ logger }))
  t.after(() => adapter.runtime.close())
  const watcher = adapter.watch(logger)
  t.after(() => watcher.close())
  await watcher.ready

  await write('c.wasm')
  await until('the config reload', () => reports.length === 1)
  assert.equal(reports[0]?.outcome, 'failed')
  assert.equal(reports[0]?.error?.code, 'WAFER_ERR_MODULE_INVALID')
  assert.ok(lines.some((l) => l.level === 50 && l.msg.startsWith('reload failed; generation 1 keeps serving')), 'logged')
  assert.equal(serving(adapter), 'a', 'the running version keeps serving')

  // c.wasm is in no serving version: only the failed config named it.
  await atomicWrite(join(dir, 'c.wasm'), await readFile(fixture('variant-b')))
  await until('the module reload', () => reports.length === 2)
  assert.equal(reports[1]?.outcome, 'applied')
  assert.equal(serving(adapter), 'b')
})
