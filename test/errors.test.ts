import assert from 'node:assert/strict'
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { test } from 'node:test'
import * as core from '@wafer/core'
import { root } from './support/index.ts'

const docs = readFileSync(join(root, 'docs/errors.md'), 'utf8')
const documented = [...docs.matchAll(/^### (WAFER_ERR_[A-Z_]+)$/gm)].map((m) => m[1])
const table = Object.keys(core.errorTable)

test('every error code in the table is documented in docs/errors.md', () => {
  const missing = table.filter((c) => !documented.includes(c))
  assert.deepEqual(missing, [], `add a "### CODE" section to docs/errors.md for: ${missing.join(', ')}`)
})

test('docs/errors.md documents no code that does not exist', () => {
  const stale = documented.filter((c) => !table.includes(c as string))
  assert.deepEqual(stale, [])
  assert.equal(new Set(documented).size, documented.length, 'each code is documented once')
})

test('the package exports the table, the error class and the guard', () => {
  assert.equal(typeof core.WaferError, 'function')
  assert.equal(typeof core.isWaferError, 'function')
  for (const code of table) {
    const def = core.errorTable[code as core.WaferErrorCode]
    assert.ok(Number.isInteger(def.status) && def.status >= 400 && def.status <= 599, `${code} has an HTTP status`)
    const err = new core.WaferError(code as core.WaferErrorCode, ['a', 'b', 'c', 'd'])
    assert.equal(err.code, code)
    assert.equal(err.statusCode, def.status)
    assert.doesNotMatch(err.message, /%s/, `${code}: every placeholder is filled`)
    assert.ok(core.isWaferError(err, code as core.WaferErrorCode))
  }
})

test('every code the source raises is in the table', () => {
  const src = ['packages/core/src', 'packages/fastify/src', 'packages/express/src', 'packages/gateway/src', 'packages/redis-store/src']
  const raised = new Set<string>()
  for (const dir of src) {
    for (const f of readdirSync(join(root, dir), { recursive: true })) {
      if (!String(f).endsWith('.ts')) continue
      for (const m of readFileSync(join(root, dir, String(f)), 'utf8').matchAll(/'(WAFER_ERR_[A-Z_]*[A-Z])'/g)) raised.add(m[1] as string)
    }
  }
  const unknown = [...raised].filter((c) => !table.includes(c))
  assert.deepEqual(unknown, [])
})
