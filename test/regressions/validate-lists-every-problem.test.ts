// `wafer validate` used to stop at the first module that failed to load, and at the first import
// its capabilities did not grant, and said neither which filter nor where in the file. It now
// lists every problem at its JSON path, as it does for schema errors.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { isWaferError, validateConfig, type ConfigInvalidError } from '@wafer/core'
import { exampleFilter, fixture, root } from '../support/index.ts'

const run = promisify(execFile)
const CLI = join(root, 'packages/gateway/dist/cli.js')

const config = (): string => `
filters:
  missing-a: { module: ./nope-a.wasm }
  missing-b: { module: ./nope-b.wasm }
  limiter:
    module: ${exampleFilter('rate-limit')}
    capabilities: [log]
    config: { limit: 5, windowMs: 1000 }
  auth: { module: ${exampleFilter('auth')}, config: { mode: api-key } }
  old: { module: ${fixture('abi-v9')} }
  fine: { module: ${exampleFilter('request-id')}, capabilities: [random, log, clock] }
chains:
  strict:
    - fine
    - filter: limiter
      config: { limit: "x" }
    - filter: missing-a
      config: { a: 1 }
routes:
  - match: { path: /x }
    chain:
      - filter: auth
        config: { mode: api-key, keys: [k] }
      - filter: auth
        config: { mode: api-key }
    respond: { status: 200 }
`

const EXPECTED = [
  ['/filters/missing-a/module', /Cannot read filter module .*nope-a\.wasm: no such file \(WAFER_ERR_MODULE_READ\)/],
  ['/filters/missing-b/module', /Cannot read filter module .*nope-b\.wasm: no such file \(WAFER_ERR_MODULE_READ\)/],
  ['/filters/limiter/capabilities', /must include "clock": the module imports "wafer"\."now_ms" \(WAFER_ERR_CAPABILITY_DENIED\), got \["log"\]/],
  ['/filters/limiter/capabilities', /must include "kv": the module imports "wafer"\."kv_set", "wafer"\."kv_incr", "wafer"\."kv_get"/],
  ['/filters/auth/config', /Filter "auth" .* rejected its configuration: auth: "keys" must be a non-empty array of strings \(WAFER_ERR_FILTER_CONFIG\)/],
  ['/filters/old/module', /abi-v9\.wasm declares ABI version 9 .*\(WAFER_ERR_ABI_VERSION\)/],
  ['/chains/strict/1/config', /Filter "limiter\.strict\.1" .* rejected its configuration: rate-limit: "limit" must be an integer/],
  ['/routes/0/chain/1/config', /Filter "auth\.route0\.1" .* rejected its configuration: auth: "keys"/]
] as const

async function writeConfig (t: { after: (fn: () => Promise<void>) => void }): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'wafer-validate-'))
  t.after(() => rm(dir, { recursive: true, force: true }))
  const file = join(dir, 'gateway.yaml')
  await writeFile(file, config())
  return file
}

test('validateConfig: every module, capability and configuration problem, each at its JSON path', async (t) => {
  const file = await writeConfig(t)
  const err = await validateConfig(file).then(() => undefined, (e: unknown) => e)
  assert.ok(isWaferError(err, 'WAFER_ERR_CONFIG_INVALID'), String(err))
  const { errors } = err as ConfigInvalidError
  assert.deepEqual(errors.map((p) => p.path), EXPECTED.map(([path]) => path),
    'a derived filter of a broken module (missing-a.strict.2) is not reported again; a valid one (auth.route0.0) is not reported')
  EXPECTED.forEach(([, message], i) => { assert.match(errors[i]?.message ?? '', message) })
})

test('wafer validate prints every problem with its path and exits 1; a valid config still passes', async (t) => {
  const file = await writeConfig(t)
  const r = await run(process.execPath, [CLI, 'validate', '--config', file]).then(() => undefined, (e: { code: number, stderr: string }) => e)
  assert.equal(r?.code, 1)
  const listed = (r?.stderr ?? '').split('\n').filter((l) => l.startsWith('  - ')).map((l) => l.slice(4, l.indexOf(': ')))
  assert.deepEqual(listed, EXPECTED.map(([path]) => path))

  await writeFile(file, `filters:\n  fine: { module: ${exampleFilter('request-id')}, capabilities: [random, log, clock] }\n`)
  const ok = await run(process.execPath, [CLI, 'validate', '--config', file])
  assert.match(ok.stdout, /^✓ .*gateway\.yaml: 1 filters, 0 chains, 0 routes; every module loaded/)
})
