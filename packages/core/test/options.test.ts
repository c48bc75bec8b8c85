import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { test } from 'node:test'
import { configDefaults } from '../src/config/defaults.ts'
import { adapterSchemas, waferOptionsSchema } from '../src/config/options-schema.ts'
import { configSchema, createWafer, defaultBreakerOptions, defaultPoolOptions, resolveAdapterOptions } from '../src/index.ts'
import { resolveFilterOptions } from '../src/runtime/filter-options.ts'
import { fixture, root, silent } from '../../../test/support/index.ts'

type Node = Record<string, unknown>
const props = (node: unknown): Record<string, Node> => (node as { properties: Record<string, Node> }).properties

test('a resolved filter is frozen, its defaults come from configDefaults, and an undefined value counts as absent', () => {
  const f = resolveFilterOptions('f', { module: 'f.wasm', pool: { min: undefined, max: 4 }, limits: { fuel: false, timeoutMs: undefined } })
  assert.ok(Object.isFrozen(f) && Object.isFrozen(f.pool) && Object.isFrozen(f.limits) && Object.isFrozen(f.breaker))
  assert.deepEqual(f.pool, { ...configDefaults.filter.pool, max: 4 })
  assert.deepEqual(f.limits, { ...configDefaults.filter.limits, fuel: undefined, memoryPages: undefined })
  assert.deepEqual(f.breaker, configDefaults.filter.breaker)
  assert.equal(f.failurePolicy, configDefaults.filter.failurePolicy)
  assert.equal(f.config.toString(), '{}')
  assert.equal(defaultPoolOptions, configDefaults.filter.pool, 'the pool and the breaker take their defaults from the one object')
  assert.equal(defaultBreakerOptions, configDefaults.filter.breaker)
})

test('the schemas document the defaults the resolvers use', () => {
  const file = props(props(configSchema).filters?.additionalProperties)
  const { pool, limits, breaker } = configDefaults.filter
  for (const [key, value] of Object.entries(pool)) assert.equal(props(file.pool)[key]?.default, value, `pool.${key}`)
  for (const [key, value] of Object.entries(limits)) assert.equal(props(file.limits)[key]?.default, value, `limits.${key}`)
  for (const [key, value] of Object.entries(breaker)) assert.equal(props(file.breaker)[key]?.default, value, `breaker.${key}`)
  assert.equal(props(waferOptionsSchema).moduleCacheSize?.default, configDefaults.runtime.moduleCacheSize)
  assert.equal(props(waferOptionsSchema).drainTimeoutMs?.default, configDefaults.runtime.drainTimeoutMs)
  const express = props(adapterSchemas['@wafer/express'])
  for (const [key, value] of Object.entries(configDefaults.adapter)) assert.equal(express[key]?.default, value, key)
})

test('an adapter\'s resolved options are frozen, with the defaults filled in; logger: false is a silent logger', () => {
  const resolved = resolveAdapterOptions('@wafer/express', { filters: {}, logger: false })
  assert.ok(Object.isFrozen(resolved))
  assert.equal(resolved.watch, false)
  assert.equal(resolved.bodyLimit, configDefaults.adapter.bodyLimit)
  assert.equal(resolved.maxWaiting, configDefaults.adapter.maxWaiting)
  assert.equal(resolved.logger?.isLevelEnabled?.('fatal'), false)
  assert.equal(resolveAdapterOptions('@wafer/fastify', { filters: {} }).logger, undefined, 'absent: the adapter\'s own default')
})

test('options that exclude each other are refused, for both adapters alike', () => {
  const runtime = { enter () {}, leave () {}, reload () {}, requireChain () {} }
  const cases: Array<[Node, string, RegExp]> = [
    [{ filters: {}, config: 'g.yaml' }, '/config', /pass either "config" or "filters"\/"chains"\/"wafer", not both/],
    [{ wafer: runtime, chains: {} }, '/wafer', /pass either "wafer" or "filters"\/"chains", not both/],
    [{ wafer: runtime, store: { get () {}, set () {}, incr () {}, delete () {} } }, '/store', /with "wafer" given, pass it to createWafer\(\) instead/],
    [{ chain: ['a'] }, '', /pass "config", "filters" .* or a created runtime as "wafer"/],
    [{ filters: {}, watch: true }, '/watch', /needs "config" to be a file path/]
  ]
  for (const adapter of ['@wafer/fastify', '@wafer/express'] as const) {
    for (const [options, path, message] of cases) {
      assert.throws(() => resolveAdapterOptions(adapter, options), (err: Error & { code: string, errors: Array<{ path: string, message: string }> }) => {
        assert.equal(err.code, 'WAFER_ERR_OPTIONS_INVALID')
        assert.ok(err.message.startsWith(`Invalid Wafer options: ${adapter}:`), err.message)
        const problem = err.errors.find((p) => p.path === path)
        assert.match(problem?.message ?? '', message)
        return true
      })
    }
  }
})

test('values JSON cannot hold are checked and described: module bytes, a store, a logger, genReqId', async () => {
  const w = await createWafer({ logger: silent, filters: { f: { module: new Uint8Array(readFileSync(fixture('noop'))) } } })
  await w.close()
  assert.throws(() => resolveAdapterOptions('@wafer/express', { filters: {}, store: {}, logger: console, genReqId: 'id' }), (err: Error) => {
    assert.match(err.message, /\/store: must be a key-value store \(an object with get, set, incr and delete methods\), got \{\}/)
    assert.match(err.message, /\/logger: must be a pino logger \(an object with trace, debug, info, warn, error and child methods\) or false/)
    assert.match(err.message, /\/genReqId: must be a function, got "id"/)
    return true
  })
})

test('a filter config must be JSON, in code as in a config file', async () => {
  await assert.rejects(createWafer({ logger: silent, filters: { f: { module: fixture('noop'), config: { n: Infinity, when: new Date(0) } } } }), (err: Error) => {
    assert.match(err.message, /\/filters\/f\/config\/n: must be a JSON value \(numbers must be finite\), got Infinity/)
    assert.match(err.message, /\/filters\/f\/config\/when: must be a JSON value/)
    return true
  })
})

test('the adapters\' READMEs list every option their schema takes, and no other', () => {
  for (const [adapter, dir] of [['@wafer/fastify', 'fastify'], ['@wafer/express', 'express']] as const) {
    const readme = readFileSync(join(root, 'packages', dir, 'README.md'), 'utf8')
    const section = readme.split('\n## Options\n')[1]?.split(/\n\n(?!\|)/)[0] ?? ''
    const listed = [...section.matchAll(/^\| `(\w+)` \|/gm)].map((m) => m[1]).sort()
    assert.deepEqual(listed, Object.keys(props(adapterSchemas[adapter])).sort(), `packages/${dir}/README.md, "## Options"`)
  }
})
