import assert from 'node:assert/strict'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, test } from 'node:test'
import { isWaferError, loadConfig, resolveConfig, type ConfigInvalidError, type ConfigParseError, type WaferErrorCode } from '../src/index.ts'
import { root } from '../../../test/support/index.ts'

const dir = join(root, 'test/fixtures/configs')
const at = (name: string): string => join(dir, name)

async function failure<E = Error> (source: string | object, code: WaferErrorCode): Promise<E & Error> {
  const err = await loadConfig(source).then(() => assert.fail('expected loadConfig to fail'), (e: unknown) => e as Error)
  assert.ok(isWaferError(err, code), `expected ${code}, got ${String(err)}`)
  assert.equal(err.statusCode, 500)
  return err as unknown as E & Error
}

/** The problems of an invalid object config, as `path: message` lines. */
function problems (config: unknown): string[] {
  try {
    resolveConfig(config, '<object>', '/')
  } catch (err) {
    assert.ok(isWaferError(err, 'WAFER_ERR_CONFIG_INVALID'), String(err))
    return (err as ConfigInvalidError).errors.map((p) => `${p.path}: ${p.message}`)
  }
  return assert.fail('expected the config to be invalid')
}

const base = { filters: { a: { module: 'a.wasm' }, b: { module: 'b.wasm' } } }
const up = 'http://127.0.0.1:3000'
const tmp = mkdtempSync(join(tmpdir(), 'wafer-config-'))
after(() => { rmSync(tmp, { recursive: true, force: true }) })

test('a missing file is WAFER_ERR_CONFIG_READ naming the absolute path', async () => {
  const err = await failure('no-such-dir/gateway.yaml', 'WAFER_ERR_CONFIG_READ')
  assert.equal(err.message, `Cannot read config file ${join(process.cwd(), 'no-such-dir/gateway.yaml')}: no such file`)
  assert.equal((err.cause as NodeJS.ErrnoException).code, 'ENOENT')
  const isDir = await failure(dir, 'WAFER_ERR_CONFIG_READ')
  assert.match(isDir.message, /configs: it is a directory, not a file$/)
})

test('a YAML syntax error is WAFER_ERR_CONFIG_PARSE with file, line and column', async () => {
  const err = await failure<ConfigParseError>(at('bad-syntax.yaml'), 'WAFER_ERR_CONFIG_PARSE')
  assert.equal(err.file, at('bad-syntax.yaml'))
  assert.equal(err.line, 5)
  assert.equal(err.column, 3)
  assert.match(err.message, /^Cannot parse config file \S+bad-syntax\.yaml:5:3: Flow map .* end with a \}$/)
  const dup = join(tmp, 'dup.yml')
  writeFileSync(dup, 'filters: {}\nserver:\n  port: 1\n  port: 2\n')
  const dupErr = await failure<ConfigParseError>(dup, 'WAFER_ERR_CONFIG_PARSE')
  assert.deepEqual([dupErr.line, dupErr.column], [4, 3])
  assert.match(dupErr.message, /unique/)
})

test('a JSON syntax error is WAFER_ERR_CONFIG_PARSE with line and column; duplicate keys are refused', async () => {
  const err = await failure<ConfigParseError>(at('bad-syntax.json'), 'WAFER_ERR_CONFIG_PARSE')
  assert.deepEqual([err.line, err.column], [3, 48])
  assert.equal(err.message, `Cannot parse config file ${at('bad-syntax.json')}:3:48: expected a double-quoted key, got "}"`)
  const cases: Array<[string, number, number, RegExp]> = [
    ['{\n  "filters": {},\n  "filters": {}\n}', 3, 3, /duplicate key "filters"/],
    ['{ "filters": { "a": } }', 1, 21, /expected a value, got "}"/],
    ['{ "filters": {} } x', 1, 19, /unexpected "x" after the end/],
    ['{ "filters": {\n', 2, 1, /got the end of the file/]
  ]
  for (const [text, line, column, reason] of cases) {
    const file = join(tmp, `${line}-${column}.json`)
    writeFileSync(file, text)
    const e = await failure<ConfigParseError>(file, 'WAFER_ERR_CONFIG_PARSE')
    assert.deepEqual([e.line, e.column], [line, column], text)
    assert.match(e.message, reason)
  }
})

test('an unknown key is reported with its path and the allowed keys, file name first', async () => {
  const err = await failure<ConfigInvalidError>(at('typo-key.yaml'), 'WAFER_ERR_CONFIG_INVALID')
  const allowed = 'host, port, bodyLimit, headerLimit, logger, shutdownTimeoutMs'
  assert.equal(err.message, `Invalid config ${at('typo-key.yaml')}:\n  - /server/prot: unknown key (allowed: ${allowed})`)
  assert.deepEqual(err.errors, [{ path: '/server/prot', message: `unknown key (allowed: ${allowed})`, value: 8080 }])
})

test('every wrong value in a file is listed in one error: path, what was expected, what was found', async () => {
  const err = await failure<ConfigInvalidError>(at('bad-types.yaml'), 'WAFER_ERR_CONFIG_INVALID')
  const lines = err.message.split('\n')
  assert.equal(lines[0], `Invalid config ${at('bad-types.yaml')}:`)
  assert.deepEqual(lines.slice(1), [
    '  - /server/port: must be an integer from 0 to 65535, got "8080"',
    '  - /server/headerLimit: must be an integer from 1024 to 1048576, got 512',
    '  - /filters/auth/pool/max: must be an integer >= 1, got 0',
    '  - /filters/auth/failurePolicy: must be one of "fail-closed", "fail-open", got "fail-sometimes"',
    '  - /filters/auth/capabilities/1: must be one of "kv", "log", "clock", "random", "http", got "net"',
    '  - /routes/0/match/path: must be a path starting with "/", without "?", "#" or spaces, got "api/"',
    '  - /routes/0/match/methods/0: must be one of "GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS", "PATCH", "TRACE", "QUERY", got "get"',
    '  - /routes/0/upstream: must be an http:// or https:// URL, got "ftp://127.0.0.1:3001"'
  ])
  assert.deepEqual(err.errors.map((p) => p.value), ['8080', 512, 0, 'fail-sometimes', 'net', 'api/', 'get', 'ftp://127.0.0.1:3001'])
})

test('references to undeclared filters and chains are reported with what is declared', async () => {
  const err = await failure<ConfigInvalidError>(at('unknown-filter.yaml'), 'WAFER_ERR_CONFIG_INVALID')
  assert.deepEqual(err.errors.map((p) => `${p.path}: ${p.message}`), [
    '/chains/default/1: filter "rewrite2" is not declared (declared: auth, rewrite)',
    '/routes/0/chain: route 0 uses chain "stricter", which is not declared (declared: default)',
    '/routes/1/chain/0/filter: filter "rate-limit" is not declared (declared: auth, rewrite)'
  ])
  assert.equal(err.errors[0]?.value, 'rewrite2')
})

test('schema errors and reference errors are reported together', () => {
  assert.deepEqual(problems({ ...base, server: { prot: 1 }, chains: { c: ['a', 'zz'] }, routes: [{ match: { path: '/' }, chain: 'nope', upstream: up }] }), [
    '/server/prot: unknown key (allowed: host, port, bodyLimit, headerLimit, logger, shutdownTimeoutMs)',
    '/chains/c/1: filter "zz" is not declared (declared: a, b)',
    '/routes/0/chain: route 0 uses chain "nope", which is not declared (declared: c)'
  ])
})

test('a route needs exactly one of upstream and respond; timeoutMs only goes with upstream', () => {
  assert.deepEqual(problems({
    ...base,
    routes: [
      { match: { path: '/both' }, upstream: up, respond: { body: 'x' } },
      { match: { path: '/neither' } },
      { match: { path: '/t' }, respond: {}, timeoutMs: 5 }
    ]
  }), [
    '/routes/0: must have exactly one of "upstream" and "respond", got both',
    '/routes/1: must have exactly one of "upstream" and "respond", got neither',
    '/routes/2/timeoutMs: only applies to a route with "upstream", got 5'
  ])
})

test('routes with the same path, type, method set and host are flagged as duplicates', () => {
  const r = (match: object) => ({ match, upstream: up })
  assert.deepEqual(problems({
    ...base,
    routes: [
      r({ path: '/a', methods: ['GET', 'POST'] }),
      r({ path: '/a', methods: ['POST', 'GET'] }),
      r({ path: '/a', methods: ['GET'] }),
      r({ path: '/a', type: 'exact', methods: ['GET', 'POST'] }),
      r({ path: '/a', methods: ['GET', 'POST'], host: 'x.io' }),
      r({ path: '/a', type: 'prefix', methods: ['GET', 'POST'], host: 'X.io' }),
      r({ path: '/b' }),
      r({ path: '/b/', type: 'prefix' }),
      r({ path: '/b/', type: 'exact' }),
      r({ path: '/', type: 'exact' }),
      r({ path: '/' })
    ]
  }), [
    '/routes/1/match: duplicates the match of route 0 (same path, type, methods and host)',
    '/routes/5/match: duplicates the match of route 4 (same path, type, methods and host)',
    '/routes/7/match: duplicates the match of route 6 (same path, type, methods and host)'
  ])
})

test('pool.min may not exceed pool.max, written or default', () => {
  assert.deepEqual(problems({ filters: { a: { module: 'a.wasm', pool: { min: 3, max: 2 } }, b: { module: 'b.wasm', pool: { min: 9 } } } }), [
    '/filters/a/pool/min: must not exceed pool.max (2), got 3',
    '/filters/b/pool/min: must not exceed pool.max (8, the default), got 9'
  ])
})

test('upstream URLs must parse and carry no query or fragment', () => {
  const routes = ['http://', 'http://exa mple.com', 'http://h/p?q=1', 'https://h/#frag'].map((upstream, i) => ({ match: { path: `/${i}` }, upstream }))
  assert.deepEqual(problems({ ...base, routes }), [
    '/routes/0/upstream: must be a valid http:// or https:// URL, got "http://"',
    '/routes/1/upstream: must be a valid http:// or https:// URL, got "http://exa mple.com"',
    '/routes/2/upstream: must be a URL without a query string or fragment (the request\'s own are forwarded), got "http://h/p?q=1"',
    '/routes/3/upstream: must be a URL without a query string or fragment (the request\'s own are forwarded), got "https://h/#frag"'
  ])
})

test('names, header names and missing required keys are reported at their path (JSON pointer escaped)', () => {
  assert.deepEqual(problems({
    filters: { 'bad name': { module: 'x.wasm' }, ok: {} },
    chains: { c: [{ filtr: 'ok' }] },
    routes: [{ match: { path: '/' }, respond: { headers: { 'a/b': 'x', 'X-A': '1', 'x-a': '2' } } }]
  }), [
    '/filters/bad name: invalid name: must be a name (1-64 letters, digits, "_", "." or "-", starting with a letter or digit), got "bad name"',
    '/filters/ok/module: required key is missing: must be a non-empty string',
    '/chains/c/0/filter: required key is missing: must be a name (1-64 letters, digits, "_", "." or "-", starting with a letter or digit)',
    '/chains/c/0/filtr: unknown key (allowed: filter, enabled, config)',
    '/routes/0/respond/headers/a~1b: invalid name: must be an HTTP header name (letters, digits and !#$%&\'*+.^_`|~-), got "a/b"',
    '/routes/0/respond/headers/x-a: repeats header "X-A" (header names are case-insensitive)'
  ])
})

test('a value that fails several rules is described once, by what the place accepts', () => {
  assert.deepEqual(problems({ ...base, chains: { c: [5, 'a'] }, routes: [{ match: { path: '/' }, chain: 7, upstream: up }] }), [
    '/chains/c/0: must be a name (1-64 letters, digits, "_", "." or "-", starting with a letter or digit) or an object with keys filter, enabled, config, got 5',
    '/routes/0/chain: must be a name (1-64 letters, digits, "_", "." or "-", starting with a letter or digit) or an array, got 7'
  ])
  assert.deepEqual(problems({ ...base, version: 2 }), ['/version: must be 1, got 2'])
  assert.deepEqual(problems({ filters: { a: { module: 'a.wasm', capabilities: ['kv', 'log', 'kv'] } } }), [
    '/filters/a/capabilities: must not repeat a value (items 0 and 2 are equal), got ["kv","log","kv"]'
  ])
})

test('the whole file: not an object, or without filters', () => {
  assert.deepEqual(problems(null), [': must be an object with keys $schema, version, server, admin, state, reload, filters, chains, routes, got null'])
  assert.deepEqual(problems({}), ['/filters: required key is missing: must be an object'])
  assert.throws(() => resolveConfig([], 'empty.yaml', '/'), (err: Error) => err.message.startsWith('Invalid config empty.yaml:\n  - (root): must be an object with keys'))
})

test('long offending values are cut to about 60 characters', () => {
  const [line] = problems({ ...base, routes: [{ match: { path: `no-slash-${'x'.repeat(100)}` }, upstream: up }] })
  const got = line?.split(', got ')[1] ?? ''
  assert.equal(got, `"no-slash-${'x'.repeat(47)}...`)
  assert.equal(got.length, 60)
})

test('filter configs must be JSON: no non-finite numbers, functions or class instances', () => {
  assert.deepEqual(problems({
    filters: { a: { module: 'a.wasm', config: { n: Infinity, list: [1, () => 1] } }, b: { module: 'b.wasm', config: new Date(0) } },
    chains: { c: [{ filter: 'a', config: { x: NaN } }] }
  }), [
    '/filters/a/config/n: must be a JSON value (numbers must be finite), got Infinity',
    '/filters/a/config/list/1: must be a JSON value (null, boolean, finite number, string, array or plain object), got a function',
    '/filters/b/config: must be a JSON value (null, boolean, finite number, string, array or plain object), got "1970-01-01T00:00:00.000Z"',
    '/chains/c/0/config/x: must be a JSON value (numbers must be finite), got NaN'
  ])
})

test('the admin server may not take the public server\'s address', () => {
  assert.deepEqual(problems({ ...base, admin: { port: 8080 } }), ['/admin/port: must differ from server.port when both listen on "127.0.0.1", got 8080'])
  resolveConfig({ ...base, admin: { port: 8080, enabled: false } }, '<object>', '/')
  resolveConfig({ ...base, admin: { port: 8080, host: '::1' } }, '<object>', '/')
  resolveConfig({ ...base, server: { port: 0 }, admin: { port: 0 } }, '<object>', '/')
})

test('loadConfig options are checked', async () => {
  await assert.rejects(loadConfig(at('gateway.yaml'), { cdw: '/' } as object), { code: 'WAFER_ERR_OPTIONS_INVALID', message: /unknown option "cdw"/ })
})
