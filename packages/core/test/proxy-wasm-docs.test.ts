// docs/proxy-wasm.md's support matrix and property table mirror the host's tables: every host
// call, WASI function and callback the host knows is in the matrix with the support level the
// code gives it, and nothing else is; every property the host answers is documented.
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { test } from 'node:test'
import { CALLBACKS, ENV_EXTRAS, PROXY_CALLS } from '../src/abi/proxy-wasm/spec.ts'
import { WASI_CALLS } from '../src/abi/proxy-wasm/wasi.ts'
import { PROPERTIES } from '../src/abi/proxy-wasm/properties.ts'
import { root } from '../../../test/support/index.ts'

const docs = readFileSync(join(root, 'docs/proxy-wasm.md'), 'utf8')

/** The rows of the table under `heading`: first cell (without backticks) -> second cell. */
function table (heading: string): Map<string, string> {
  const start = docs.indexOf(`\n${heading}\n`)
  assert.notEqual(start, -1, `docs/proxy-wasm.md has a "${heading}" section`)
  const end = docs.indexOf('\n#', start + heading.length + 2)
  const rows = new Map<string, string>()
  for (const m of docs.slice(start, end === -1 ? undefined : end).matchAll(/^\| `([^`]+)` \| ([^|]*?) \|/gm)) {
    assert.equal(rows.has(m[1] as string), false, `${m[1]} is listed once under "${heading}"`)
    rows.set(m[1] as string, m[2] as string)
  }
  return rows
}

function expectMatrix (heading: string, code: Record<string, string>): void {
  const documented = table(heading)
  assert.deepEqual(Object.fromEntries([...documented].sort()), Object.fromEntries(Object.entries(code).sort()), `"${heading}" in docs/proxy-wasm.md vs the host's table`)
}

test('the host-call matrix lists every env import with the support the host gives it', () => {
  const code: Record<string, string> = {}
  for (const [name, call] of Object.entries(PROXY_CALLS)) code[name] = call.support
  for (const name of Object.keys(ENV_EXTRAS)) code[name] = 'supported'
  expectMatrix('### Host calls (`env`)', code)
})

test('the WASI matrix lists every wasi_snapshot_preview1 import with its support', () => {
  expectMatrix('### WASI (`wasi_snapshot_preview1`)', Object.fromEntries(Object.entries(WASI_CALLS).map(([n, c]) => [n, c.support])))
})

test('the callback matrix lists every export the host knows with its support', () => {
  expectMatrix('### Callbacks (exports)', Object.fromEntries(Object.entries(CALLBACKS).map(([n, c]) => [n, c.support])))
})

test('the property table documents every property the host answers, with its description', () => {
  expectMatrix('## Properties', Object.fromEntries(Object.entries(PROPERTIES).map(([n, p]) => [n, p.description])))
})

test('calls the host answers without implementing them say which status they get', () => {
  const names: Record<number, string> = { 1: 'NOT_FOUND', 12: 'UNIMPLEMENTED' }
  const documented = table('### Host calls (`env`)')
  const notes = new Map([...docs.matchAll(/^\| `(proxy_[a-z_]+)` \| [^|]+ \| ([^|]*) \|$/gm)].map((m) => [m[1], m[2]]))
  for (const [name, call] of Object.entries(PROXY_CALLS)) {
    if (call.answer === undefined) continue
    assert.equal(documented.get(name), 'not supported', name)
    assert.match(notes.get(name) ?? '', new RegExp(`\`${names[call.answer] as string}\``), `${name}'s note names the status it answers`)
  }
})
