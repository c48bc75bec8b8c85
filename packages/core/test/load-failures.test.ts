// Several filters failing to load at once: startup and reload name every one of them, each with
// its own code, and close the filters that did load.
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { mkdtemp, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test, type TestContext } from 'node:test'
import { pathToFileURL } from 'node:url'
import { createWafer, isWaferError, type FilterOptions, type WaferError } from '../src/index.ts'
import { Filter } from '../src/runtime/filter.ts'
import { captureLogger, fixture, root, silent, type LogLine } from '../../../test/support/index.ts'

const notWasm = new TextEncoder().encode('definitely not wasm')
type FiltersFailed = WaferError & { errors: unknown[], filters: string[] }

/** Every filter closed during the test, by name. */
function closedFilters (t: TestContext): string[] {
  const closed: string[] = []
  const close = Filter.prototype.close
  t.mock.method(Filter.prototype, 'close', function (this: Filter) {
    closed.push(this.name)
    close.call(this)
  })
  return closed
}

async function startError (filters: Record<string, FilterOptions>): Promise<WaferError> {
  const err = await createWafer({ logger: silent, filters }).then(() => assert.fail('expected startup to fail'), (e: unknown) => e)
  assert.ok(isWaferError(err), `expected a WaferError, got ${String(err)}`)
  return err
}

test('createWafer with two broken filters rejects with WAFER_ERR_FILTERS_FAILED naming both, and closes the ones that loaded', async (t) => {
  const closed = closedFilters(t)
  const err = await startError({
    good: { module: fixture('noop') },
    garbage: { module: notWasm },
    ticks: { module: fixture('proxy-sdk-ticks'), config: '10', pool: { min: 2, max: 2 } },
    picky: { module: fixture('reject-config') }
  }) as FiltersFailed
  assert.equal(err.code, 'WAFER_ERR_FILTERS_FAILED')
  assert.equal(err.statusCode, 500)
  assert.match(err.message, /^2 of 4 filters failed to load, each with its own error:\n/)
  assert.match(err.message, /\n {2}- "garbage": WAFER_ERR_MODULE_INVALID: Filter module <bytes> is not a valid WebAssembly module: /)
  assert.ok(err.message.includes(`\n  - "picky": WAFER_ERR_FILTER_CONFIG: Filter "picky" (${fixture('reject-config')}) rejected its configuration: "limit" must be a positive integer`), err.message)
  assert.doesNotMatch(err.message, /"good"|"ticks"/)
  // The individual errors, as an AggregateError keeps them, with the filters' names in the same order.
  assert.deepEqual(err.filters, ['garbage', 'picky'])
  assert.deepEqual(err.errors.map((e) => (e as WaferError).code), ['WAFER_ERR_MODULE_INVALID', 'WAFER_ERR_FILTER_CONFIG'])
  assert.ok(err.errors.every((e) => isWaferError(e)))
  assert.deepEqual(closed.sort(), ['good', 'ticks'])
})

test('one broken filter among good ones still throws its own error, not WAFER_ERR_FILTERS_FAILED', async (t) => {
  const closed = closedFilters(t)
  const err = await startError({ good: { module: fixture('noop') }, picky: { module: fixture('reject-config') } })
  assert.equal(err.code, 'WAFER_ERR_FILTER_CONFIG')
  assert.match(err.message, /^Filter "picky" \(.*reject-config\.wasm\) rejected its configuration: "limit" must be a positive integer$/)
  assert.equal((err as Partial<FiltersFailed>).errors, undefined)
  assert.deepEqual(closed, ['good'])
})

test('three failures, one of them a missing file: all three are listed in declaration order', async () => {
  const err = await startError({
    missing: { module: '/nonexistent/dir/filter.wasm' },
    old: { module: fixture('abi-v9') },
    garbage: { module: notWasm }
  }) as FiltersFailed
  assert.equal(err.code, 'WAFER_ERR_FILTERS_FAILED')
  assert.deepEqual(err.filters, ['missing', 'old', 'garbage'])
  const listed = [...err.message.matchAll(/^ {2}- "([a-z]+)": (WAFER_ERR_[A-Z_]+): /gm)].map((m) => `${m[1] as string} ${m[2] as string}`)
  assert.deepEqual(listed, ['missing WAFER_ERR_MODULE_READ', 'old WAFER_ERR_ABI_VERSION', 'garbage WAFER_ERR_MODULE_INVALID'])
})

test('a process whose startup failed on several filters exits by itself: nothing the loaded filters started keeps it alive', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'wafer-load-failures-'))
  const script = join(dir, 'start.mts')
  const src = pathToFileURL(join(root, 'packages/core/src/index.ts')).href
  await writeFile(script, `
import { createWafer } from ${JSON.stringify(src)}
try {
  await createWafer({
    logger: false,
    filters: {
      ticks: { module: ${JSON.stringify(fixture('proxy-sdk-ticks'))}, config: '5', pool: { min: 2, max: 4 } },
      good: { module: ${JSON.stringify(fixture('noop'))}, pool: { min: 2, max: 4 } },
      garbage: { module: new TextEncoder().encode('definitely not wasm') },
      picky: { module: ${JSON.stringify(fixture('reject-config'))} }
    }
  })
  console.log('started')
} catch (err) {
  console.log(err.code)
}
`)
  const child = spawn(process.execPath, ['--import', 'tsx', script], { cwd: join(root, 'packages/core'), stdio: ['ignore', 'pipe', 'pipe'] })
  let out = ''
  child.stdout.on('data', (c: Buffer) => { out += c.toString() })
  child.stderr.on('data', (c: Buffer) => { out += c.toString() })
  const code = await new Promise<number | null>((resolve, reject) => {
    const timer = setTimeout(() => { child.kill('SIGKILL'); reject(new Error(`the process did not exit within 15 s:\n${out}`)) }, 15_000)
    child.on('exit', (c) => { clearTimeout(timer); resolve(c) })
  })
  assert.equal(code, 0, out)
  assert.equal(out.trim(), 'WAFER_ERR_FILTERS_FAILED')
})

test('a reload with two failing filters reports and logs both, each with its code; the running generation keeps serving', async (t) => {
  const { logger, lines } = captureLogger()
  const w = await createWafer({ logger, filters: { a: { module: fixture('noop') }, b: { module: fixture('stamp') } } })
  t.after(() => w.close())
  const closed = closedFilters(t)
  const report = await w.reload({
    filters: {
      a: { module: fixture('noop') },
      b: { module: fixture('stamp'), config: { changed: true } },
      garbage: { module: notWasm },
      picky: { module: fixture('reject-config') }
    }
  })
  assert.equal(report.outcome, 'failed')
  assert.equal(w.generation.id, 1)
  assert.deepEqual(closed, ['b'], 'the filter loaded anew for the failed reload is closed; the reused one is not')
  assert.equal(report.error?.code, 'WAFER_ERR_FILTERS_FAILED')
  assert.match(report.error?.message ?? '', /^2 of 4 filters failed to load/)
  assert.deepEqual(report.error?.filters?.map((f) => [f.name, f.code]), [['garbage', 'WAFER_ERR_MODULE_INVALID'], ['picky', 'WAFER_ERR_FILTER_CONFIG']])
  assert.match(report.error?.filters?.[1]?.message ?? '', /^Filter "picky" .* rejected its configuration: "limit" must be a positive integer$/)
  assert.deepEqual(w.status().lastReload, report)
  const line = lines.find((l) => l.level === 50 && l.msg.startsWith('reload failed')) as LogLine
  assert.ok(line !== undefined, 'an error line for the failed reload')
  assert.match(line.msg, /^reload failed; generation 1 keeps serving: 2 of 4 filters failed to load, each with its own error:\n {2}- "garbage": WAFER_ERR_MODULE_INVALID: .*\n {2}- "picky": WAFER_ERR_FILTER_CONFIG: /)
  assert.deepEqual((line.reload as typeof report).error, report.error)
  // The runtime still serves generation 1, and a good reload after the failure applies.
  assert.equal((await w.reload({ filters: { a: { module: fixture('noop') } } })).outcome, 'applied')
})

test('a reload with one failing filter reports its own code, with no filters list', async (t) => {
  const w = await createWafer({ logger: silent, filters: { a: { module: fixture('noop') } } })
  t.after(() => w.close())
  const report = await w.reload({ filters: { a: { module: fixture('noop') }, picky: { module: fixture('reject-config') } } })
  assert.equal(report.error?.code, 'WAFER_ERR_FILTER_CONFIG')
  assert.equal(report.error?.filters, undefined)
})
