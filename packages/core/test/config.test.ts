import assert from 'node:assert/strict'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { after, test } from 'node:test'
import { createWafer, Exchange, loadConfig, resolveConfig, toWaferFilters, type ResolvedConfig } from '../src/index.ts'
import { FILTER_NAME } from '../src/runtime/filter-options.ts'
import { fixture, root, silent } from '../../../test/support/index.ts'

const dir = join(root, 'test/fixtures/configs')
const at = (name: string): string => join(dir, name)

const tmpDir = mkdtempSync(join(tmpdir(), 'wafer-config-'))
after(() => { rmSync(tmpDir, { recursive: true, force: true }) })

function tmp (name: string, text: string): string {
  const file = join(tmpDir, name)
  writeFileSync(file, text)
  return file
}

test('the YAML and JSON versions of a config resolve to the same ResolvedConfig', async () => {
  const yaml = await loadConfig(at('gateway.yaml'))
  const json = await loadConfig(at('gateway.json'))
  assert.equal(yaml.source, at('gateway.yaml'))
  assert.equal(json.source, at('gateway.json'))
  assert.deepEqual({ ...yaml, source: '' }, { ...json, source: '' })
  assert.equal(Object.keys(yaml.filters).length, 5, 'three declared, two derived')
  assert.equal(yaml.routes.length, 4)
})

test('gateway.yaml resolves to exactly the documented shape', async () => {
  const r = await loadConfig(at('gateway.yaml'))
  assert.equal(r.version, 1)
  assert.deepEqual(r.server, { host: '0.0.0.0', port: 8080, bodyLimit: 2097152, headerLimit: 16384, logLevel: 'warn', shutdownTimeoutMs: 5000 })
  assert.deepEqual(r.admin, { enabled: true, host: '127.0.0.1', port: 9901 })
  assert.deepEqual(r.filters.auth, {
    module: at('filters/auth.wasm'),
    config: { mode: 'api-key', header: 'x-api-key', keys: ['k1', 'k2'] },
    pool: { min: 2, max: 16 },
    failurePolicy: 'fail-closed',
    limits: { fuel: 1000000, memoryPages: 256, timeoutMs: 1000 },
    capabilities: ['kv', 'log']
  })
  assert.deepEqual(r.filters.rewrite, { module: '/opt/wafer/filters/rewrite.wasm', config: {}, failurePolicy: 'fail-open' })
  assert.deepEqual(r.chains, { default: ['auth', 'rate-limit'], strict: ['auth', 'rate-limit.strict.1'] })
  assert.deepEqual(r.routes, [
    {
      index: 0,
      match: { path: '/api/', type: 'prefix', methods: ['GET', 'POST'], host: 'api.example.com' },
      chain: ['auth', 'rate-limit'],
      chainName: 'default',
      upstream: { url: 'http://127.0.0.1:3001', timeoutMs: 30000 }
    },
    {
      index: 1,
      match: { path: '/admin/', type: 'prefix', methods: undefined, host: undefined },
      chain: ['auth', 'rate-limit.strict.1'],
      chainName: 'strict',
      upstream: { url: 'http://127.0.0.1:3002/internal', timeoutMs: 5000 }
    },
    {
      index: 2,
      match: { path: '/users/:id', type: 'pattern', methods: ['GET'], host: undefined },
      chain: ['auth', 'rate-limit.route2.1'],
      chainName: undefined,
      upstream: { url: 'https://users.internal:8443', timeoutMs: 30000 }
    },
    {
      index: 3,
      match: { path: '/healthz', type: 'exact', methods: undefined, host: undefined },
      chain: [],
      chainName: undefined,
      respond: { status: 200, headers: { 'content-type': 'text/plain' }, body: 'ok' }
    }
  ])
})

test('every omitted field takes its default', () => {
  const r = resolveConfig({
    filters: { a: { module: 'a.wasm' } },
    routes: [{ match: { path: '/' }, upstream: 'http://127.0.0.1:3000' }, { match: { path: '/r' }, respond: {} }]
  }, '<object>', '/base')
  assert.deepEqual(r, {
    source: '<object>',
    version: 1,
    server: { host: '127.0.0.1', port: 8080, bodyLimit: 1048576, headerLimit: 16384, logLevel: 'info', shutdownTimeoutMs: 10000 },
    admin: { enabled: true, host: '127.0.0.1', port: 9901 },
    state: { kind: 'memory', maxKeys: 100000 },
    reload: { watch: true, debounceMs: 250, drainTimeoutMs: 30000 },
    filters: { a: { module: '/base/a.wasm', config: {}, failurePolicy: 'fail-closed' } },
    chains: {},
    routes: [
      { index: 0, match: { path: '/', type: 'prefix', methods: undefined, host: undefined }, chain: [], chainName: undefined, upstream: { url: 'http://127.0.0.1:3000', timeoutMs: 30000 } },
      { index: 1, match: { path: '/r', type: 'prefix', methods: undefined, host: undefined }, chain: [], chainName: undefined, respond: { status: 200, headers: {}, body: '' } }
    ]
  })
  assert.ok(!('pool' in (r.filters.a as object)), 'an unwritten pool is left to the runtime defaults')
})

test('module paths resolve against the config file\'s directory, not the working directory; absolute paths are kept', async () => {
  const fromRoot = await loadConfig('test/fixtures/configs/gateway.yaml', { cwd: root })
  const fromDir = await loadConfig('gateway.yaml', { cwd: dir })
  for (const r of [fromRoot, fromDir]) {
    assert.equal(r.source, at('gateway.yaml'))
    assert.equal(r.filters.auth?.module, at('filters/auth.wasm'))
    assert.equal(r.filters['rate-limit.strict.1']?.module, at('filters/rate-limit.wasm'))
    assert.equal(r.filters.rewrite?.module, '/opt/wafer/filters/rewrite.wasm')
  }
})

test('resolveConfig and loadConfig(object) resolve relative module paths against the given directory', async () => {
  const config = { filters: { a: { module: './filters/a.wasm' }, b: { module: '../b.wasm' }, c: { module: '/abs/c.wasm' } } }
  const r = resolveConfig(config, 'mine.yaml', '/srv/wafer/conf')
  assert.equal(r.source, 'mine.yaml')
  assert.deepEqual(Object.values(r.filters).map((f) => f.module), ['/srv/wafer/conf/filters/a.wasm', '/srv/wafer/b.wasm', '/abs/c.wasm'])
  const viaLoad = await loadConfig(config, { cwd: '/srv/other' })
  assert.equal(viaLoad.source, '<object>')
  assert.equal(viaLoad.filters.a?.module, '/srv/other/filters/a.wasm')
})

test('disabled chain entries are dropped, and create no derived filter even with a config', () => {
  const r = resolveConfig({
    filters: { a: { module: 'a.wasm' }, b: { module: 'b.wasm' } },
    chains: { c: ['a', { filter: 'b', enabled: false, config: { x: 1 } }, { filter: 'b', enabled: true }, { filter: 'a', enabled: false }] }
  }, '<object>', '/')
  assert.deepEqual(r.chains.c, ['a', 'b'])
  assert.deepEqual(Object.keys(r.filters), ['a', 'b'])
})

test('a per-use config override becomes a derived filter: a copy of the base with that config', async () => {
  const r = await loadConfig(at('gateway.yaml'))
  const base = r.filters['rate-limit']
  assert.deepEqual(base?.config, { limit: 100, windowMs: 60000 }, 'the base filter keeps its own config')
  assert.deepEqual(r.filters['rate-limit.strict.1'], { ...base, config: { limit: 10, windowMs: 60000 } })
  assert.deepEqual(r.filters['rate-limit.route2.1'], { ...base, config: { limit: 5, windowMs: 1000 } })
  assert.deepEqual(r.routes[2]?.chain, ['auth', 'rate-limit.route2.1'])
})

test('a derived filter inherits the base filter\'s pool, policy, limits and capabilities; a null override is kept', () => {
  const r = resolveConfig({
    filters: { f: { module: 'f.wasm', config: { a: 1 }, pool: { max: 2 }, failurePolicy: 'fail-open', limits: { fuel: 5000 }, capabilities: ['kv'] } },
    chains: { c: [{ filter: 'f', config: null }, { filter: 'f', config: [1, 2] }] }
  }, '<object>', '/d')
  assert.deepEqual(r.chains.c, ['f.c.0', 'f.c.1'])
  const copy = { module: '/d/f.wasm', pool: { max: 2 }, failurePolicy: 'fail-open', limits: { fuel: 5000 }, capabilities: ['kv'] }
  assert.deepEqual(r.filters['f.c.0'], { ...copy, config: null })
  assert.deepEqual(r.filters['f.c.1'], { ...copy, config: [1, 2] })
})

test('derived names that would be too long or already taken are cut, stay valid, unique and stable', () => {
  const long = 'f'.repeat(40)
  const chain = 'c'.repeat(40)
  const config = {
    filters: { [long]: { module: 'f.wasm' }, 'rl.c.0': { module: 'taken.wasm' }, rl: { module: 'rl.wasm' } },
    chains: {
      [chain]: [{ filter: long, config: 1 }, { filter: long, config: 2 }],
      c: [{ filter: 'rl', config: 3 }]
    }
  }
  const r = resolveConfig(config, '<object>', '/')
  const names = [...(r.chains[chain] ?? []), ...(r.chains.c ?? [])]
  assert.equal(new Set([...names, long, 'rl.c.0', 'rl']).size, 6, 'no derived name collides with another name')
  for (const name of names) assert.match(name, FILTER_NAME)
  assert.match(names[0] ?? '', /^f+\.c+-[0-9a-f]{8}\.0$/)
  assert.match(names[1] ?? '', /\.1$/)
  assert.notEqual(names[2], 'rl.c.0', 'a declared filter keeps its name')
  assert.equal(r.filters['rl.c.0']?.module, '/taken.wasm')
  assert.equal(r.filters[names[2] as string]?.config, 3)
  assert.deepEqual(resolveConfig(config, '<object>', '/').chains, r.chains, 'the same config gives the same names')
})

test('the resolved config is deeply frozen and shares nothing with the input', () => {
  const input = {
    filters: { a: { module: 'a.wasm', config: { list: [1] }, pool: { max: 2 } } },
    chains: { c: ['a'] },
    routes: [{ match: { path: '/', methods: ['GET' as const] }, chain: 'c', respond: { headers: { 'X-A': '1' } } }]
  }
  const r = resolveConfig(input, '<object>', '/')
  const nested: unknown[] = [r, r.server, r.filters, r.filters.a, r.filters.a?.config, r.filters.a?.pool, r.chains.c, r.routes, r.routes[0]?.match, r.routes[0]?.match.methods, r.routes[0]?.respond?.headers]
  for (const o of nested) assert.ok(Object.isFrozen(o), `${JSON.stringify(o)} is frozen`)
  assert.ok(!Object.isFrozen(input.filters.a.config), 'the caller\'s objects are not frozen')
  input.filters.a.config.list.push(2)
  input.chains.c.push('b')
  assert.deepEqual(r.filters.a?.config, { list: [1] })
  assert.deepEqual(r.chains.c, ['a'])
})

test('response header names are lower-cased; the route host is lower-cased', () => {
  const r = resolveConfig({
    filters: {},
    routes: [{ match: { path: '/', host: 'Example.COM:8080' }, respond: { status: 204, headers: { 'Content-Type': 'text/plain', 'X-Id': '7' } } }]
  }, '<object>', '/')
  assert.deepEqual(r.routes[0]?.respond, { status: 204, headers: { 'content-type': 'text/plain', 'x-id': '7' }, body: '' })
  assert.equal(r.routes[0]?.match.host, 'example.com:8080')
})

test('"version" is optional, "$schema" is accepted for editors', () => {
  const r = resolveConfig({ $schema: './config.schema.json', filters: {} }, '<object>', '/')
  assert.equal(r.version, 1)
  assert.ok(!('$schema' in r))
})

test('a file with another extension is read as JSON if it is JSON, else as YAML; .json is always JSON', async () => {
  const json = await loadConfig(tmp('json.conf', '{ "filters": { "a": { "module": "a.wasm" } } }'))
  const yaml = await loadConfig(tmp('yaml.conf', 'filters:\n  a: { module: a.wasm }\n'))
  assert.deepEqual({ ...json, source: '' }, { ...yaml, source: '' })
  assert.equal(json.filters.a?.module, join(dirname(json.source), 'a.wasm'))
  await assert.rejects(loadConfig(tmp('yaml.json', 'filters:\n  a: { module: a.wasm }\n')), { code: 'WAFER_ERR_CONFIG_PARSE' })
  const bom = await loadConfig(tmp('bom.json', '\uFEFF' + readFileSync(at('gateway.json'), 'utf8')))
  assert.equal(bom.server.port, 8080, 'a UTF-8 byte order mark is ignored')
})

test('toWaferFilters gives createWafer its filters with everything the runtime enforces', () => {
  const r = resolveConfig({
    filters: { a: { module: 'a.wasm', pool: { max: 2 }, limits: { fuel: 5000 }, capabilities: ['kv'] }, b: { module: 'b.wasm', config: { x: 1 } } },
    chains: { c: [{ filter: 'b', config: { x: 2 } }] }
  }, '<object>', '/d')
  assert.deepEqual(toWaferFilters(r), {
    a: { module: '/d/a.wasm', config: {}, failurePolicy: 'fail-closed', pool: { max: 2 }, limits: { fuel: 5000 }, capabilities: ['kv'] },
    b: { module: '/d/b.wasm', config: { x: 1 }, failurePolicy: 'fail-closed' },
    'b.c.0': { module: '/d/b.wasm', config: { x: 2 }, failurePolicy: 'fail-closed' }
  })
})

test('toWaferFilters and chains go to createWafer as they are; an override reaches the derived filter\'s guest', async () => {
  const r: ResolvedConfig = resolveConfig({
    filters: { tag: { module: './tag.wasm', config: { name: 'A' }, limits: { fuel: 100000 }, capabilities: ['log'] } },
    chains: { c: ['tag', { filter: 'tag', config: { name: 'B' } }, { filter: 'tag', enabled: false, config: { name: 'X' } }] }
  }, '<object>', dirname(fixture('tag')))
  const wafer = await createWafer({ logger: silent, filters: toWaferFilters(r), chains: r.chains })
  try {
    assert.deepEqual(wafer.status().chains, { c: ['tag', 'tag.c.1'] })
    const ex = new Exchange({ id: 'r', method: 'GET', url: '/', headers: {}, remoteAddress: '127.0.0.1', log: silent })
    await wafer.chain('c').runRequest(ex)
    assert.equal(ex.headers['x-order'], 'A,B')
  } finally {
    await wafer.close()
  }
})

test('state: in memory by default, Redis when configured, never both', async () => {
  const { resolveConfig } = await import('../src/index.ts')
  const redis = resolveConfig({ filters: {}, state: { redis: { url: 'redis://127.0.0.1:6379/0' } } }, '<object>', '/')
  assert.deepEqual(redis.state, { kind: 'redis', url: 'redis://127.0.0.1:6379/0', keyPrefix: 'wafer:', timeoutMs: 200, sharedDataTimeoutMs: 50 })
  const shared = resolveConfig({ filters: {}, state: { redis: { url: 'redis://h', sharedDataTimeoutMs: 20 } } }, '<object>', '/')
  assert.equal(shared.state.kind === 'redis' && shared.state.sharedDataTimeoutMs, 20)
  assert.throws(() => resolveConfig({ filters: {}, state: { redis: { url: 'redis://h', sharedDataTimeoutMs: 5000 } } }, '<object>', '/'), {
    code: 'WAFER_ERR_CONFIG_INVALID', message: /\/state\/redis\/sharedDataTimeoutMs/
  })
  const memory = resolveConfig({ filters: {}, state: { memory: { maxKeys: 10 } } }, '<object>', '/')
  assert.deepEqual(memory.state, { kind: 'memory', maxKeys: 10 })
  assert.throws(() => resolveConfig({ filters: {}, state: { memory: {}, redis: { url: 'redis://h' } } }, '<object>', '/'), {
    code: 'WAFER_ERR_CONFIG_INVALID', message: /\/state: must choose one store: "memory" or "redis", got both/
  })
  assert.throws(() => resolveConfig({ filters: {}, state: { redis: { url: 'http://h' } } }, '<object>', '/'), {
    code: 'WAFER_ERR_CONFIG_INVALID', message: /\/state\/redis\/url/
  })
})
