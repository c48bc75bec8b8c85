import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { test } from 'node:test'
import { resolveConfig } from '../src/index.ts'
import { root } from '../../../test/support/index.ts'

const doc = readFileSync(join(root, 'docs/config.md'), 'utf8')
const blocks = [...doc.matchAll(/^```(\w*)\n([\s\S]*?)^```$/gm)].map((m) => ({ lang: m[1], text: m[2] as string }))

test('the complete example in docs/config.md is test/fixtures/configs/gateway.yaml', () => {
  const fixture = readFileSync(join(root, 'test/fixtures/configs/gateway.yaml'), 'utf8').replace(/^(#.*\n)+\n?/, '')
  assert.equal(blocks.find((b) => b.lang === 'yaml')?.text, fixture)
})

test('the multi-error example in docs/config.md is what Wafer prints', () => {
  const shown = blocks.find((b) => b.text.startsWith('Invalid config'))?.text
  let message = ''
  try {
    resolveConfig({
      server: { prot: 8080, port: '8080' },
      filters: { auth: { module: 'a.wasm', pool: { max: 0 }, failurePolicy: 'fail-sometimes' }, rewrite: { module: 'r.wasm' } },
      chains: { default: ['auth', 'rewrite2'] },
      routes: [{ match: { path: '/api/' }, chain: 'stricter', upstream: 'http://127.0.0.1:3001' }, { match: { path: '/b' }, upstream: 'http://x', respond: {} }]
    }, '/etc/wafer/gateway.yaml', '/')
  } catch (err) {
    message = (err as Error).message
  }
  assert.equal(shown, `${message}\n`)
})
