// The end-to-end scenarios every adapter must pass, over a real socket. Each adapter's test file
// builds the same small app (standard routes below) and hands its factory to `scenarios()`. A
// scenario that passes on one adapter and fails on the other is an adapter bug.
import assert from 'node:assert/strict'
import { mkdtemp, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test, type TestContext } from 'node:test'
import type { ChainSpec, GatewayConfig, KvStore, ReloadReport, Wafer, WaferDefinition, WaferObserver } from '@wafer/core'
import type { pino } from 'pino'
import { captureLogger, exampleFilter, fixture, until } from '../support/index.ts'
import { delayedStore } from '../support/stores.ts'

/** The Wafer options both adapters take, as each adapter's own options spell them. */
export interface SharedOptions {
  config?: string | GatewayConfig
  filters?: WaferDefinition['filters']
  chains?: WaferDefinition['chains']
  chain?: ChainSpec
  store?: KvStore
  observer?: WaferObserver
  responseBodyLimit?: number
}

export interface AppOptions {
  wafer: SharedOptions
  /** The app's pino logger (Fastify's `loggerInstance`, the middleware's `logger`). Default: silent. */
  logger?: pino.Logger
  /** Request body limit (Fastify's `bodyLimit`; the middleware's `bodyLimit` and the body parsers'). Default 1 MiB. */
  bodyLimit?: number
  /** Extra GET routes echoing the request, each with its own chain (instead of the global one). */
  routes?: Array<{ path: string, chain: ChainSpec }>
  /** What GET /slow waits for before it answers. */
  hold?: () => Promise<void>
}

/**
 * An app listening on 127.0.0.1 with the given Wafer options and these routes, each answering
 * with the request as the route saw it, `{ method, url, query, headers, body? }` (JSON):
 * - GET and POST /echo (POST: `body` is the parsed JSON or text body);
 * - GET /slow: waits for `hold()`, then echoes;
 * - GET /stream: `text/plain` "abc", streamed in three writes;
 * - the `routes` with their chains;
 * - any other path and method: echoes (so a rewritten path lands somewhere).
 */
export interface TestApp {
  url: string
  runtime: Wafer
  /** The runtime's reload with a new definition. */
  reload (definition: WaferDefinition): Promise<ReloadReport>
  /** The adapter's config reload (Fastify `waferReload`, the middleware's `reload`). */
  reloadConfig (config?: string | GatewayConfig): Promise<ReloadReport>
  close (): Promise<void>
}

export type AdapterFactory = (options: AppOptions) => Promise<TestApp>

interface Echo {
  method: string
  url: string
  query: Record<string, string>
  headers: Record<string, string | string[] | undefined>
  body?: unknown
}

const AUTH = { mode: 'api-key', header: 'x-api-key', keys: ['demo-key', 'other-key'], subjects: ['demo', 'other'] }

export function scenarios (adapter: string, factory: AdapterFactory): void {
  async function start (t: TestContext, options: AppOptions): Promise<TestApp> {
    const app = await factory(options)
    t.after(() => app.close())
    return app
  }

  test(`${adapter}: auth (api-key): 401 without or with a wrong key, 200 with the subject and without the key`, async (t) => {
    const app = await start(t, { wafer: { filters: { auth: { module: exampleFilter('auth'), config: AUTH } }, chain: ['auth'] } })
    const missing = await fetch(`${app.url}/echo`)
    assert.equal(missing.status, 401)
    assert.equal(missing.headers.get('www-authenticate'), 'ApiKey')
    assert.match(missing.headers.get('content-type') ?? '', /^application\/json/)
    assert.deepEqual(await missing.json(), { error: 'missing api key' })

    const wrong = await fetch(`${app.url}/echo`, { headers: { 'x-api-key': 'nope' } })
    assert.equal(wrong.status, 401)
    assert.deepEqual(await wrong.json(), { error: 'invalid api key' })

    const ok = await fetch(`${app.url}/echo`, { headers: { 'x-api-key': 'other-key' } })
    assert.equal(ok.status, 200)
    const echo = await ok.json() as Echo
    assert.equal(echo.headers['x-auth-subject'], 'other')
    assert.equal(echo.headers['x-api-key'], undefined, 'the route never sees the key')
  })

  test(`${adapter}: rewrite: path prefix, request and response headers, all visible to the route`, async (t) => {
    const app = await start(t, {
      wafer: {
        filters: {
          rewrite: {
            module: exampleFilter('rewrite'),
            config: { prefix: { from: '/api/', to: '/internal/' }, setHeaders: { 'x-gateway': 'wafer' }, removeHeaders: ['cookie'], responseHeaders: { set: { 'x-served-by': 'wafer' } } }
          }
        },
        chain: ['rewrite']
      }
    })
    const res = await fetch(`${app.url}/api/items?page=2`, { headers: { cookie: 'session=1' } })
    assert.equal(res.status, 200)
    assert.equal(res.headers.get('x-served-by'), 'wafer')
    const echo = await res.json() as Echo
    assert.equal(echo.url, '/internal/items?page=2')
    assert.deepEqual({ ...echo.query }, { page: '2' })
    assert.equal(echo.headers['x-gateway'], 'wafer')
    assert.equal(echo.headers.cookie, undefined)
  })

  test(`${adapter}: rewrite: a new path and query reach the route as req.url and its query`, async (t) => {
    const app = await start(t, { wafer: { filters: { rewrite: { module: fixture('rewrite-path') } }, chain: ['rewrite'] } })
    const echo = await (await fetch(`${app.url}/anything?x=1`)).json() as Echo
    assert.equal(echo.url, '/rewritten?q=1')
    assert.deepEqual({ ...echo.query }, { q: '1' })
  })

  for (const store of ['in-memory', 'asynchronous'] as const) {
    test(`${adapter}: rate limit (${store} store): 200s with RateLimit-*, then 429 with Retry-After`, async (t) => {
      const app = await start(t, {
        wafer: {
          filters: { limit: { module: exampleFilter('rate-limit'), config: { algorithm: 'fixed-window', limit: 3, windowMs: 60_000, key: 'ip' } } },
          chain: ['limit'],
          ...(store === 'asynchronous' ? { store: delayedStore(1).store } : {})
        }
      })
      for (const remaining of ['2', '1', '0']) {
        const res = await fetch(`${app.url}/echo`)
        assert.equal(res.status, 200)
        assert.equal(res.headers.get('ratelimit-limit'), '3')
        assert.equal(res.headers.get('ratelimit-remaining'), remaining)
        const reset = Number(res.headers.get('ratelimit-reset'))
        assert.ok(Number.isInteger(reset) && reset >= 1 && reset <= 60, `ratelimit-reset ${String(reset)}`)
        await res.arrayBuffer()
      }
      const denied = await fetch(`${app.url}/echo`)
      assert.equal(denied.status, 429)
      const retry = Number(denied.headers.get('retry-after'))
      assert.ok(Number.isInteger(retry) && retry >= 1 && retry <= 60, `retry-after ${String(retry)}`)
      assert.equal(denied.headers.get('ratelimit-limit'), '3')
      assert.equal(denied.headers.get('ratelimit-remaining'), '0')
      assert.match(denied.headers.get('content-type') ?? '', /^application\/json/)
      assert.deepEqual(await denied.json(), { error: 'rate limit exceeded', retryAfter: retry })
    })
  }

  test(`${adapter}: response headers from the request phase: on the route's reply, on a later filter's reply, whose own value wins`, async (t) => {
    const tagged = { module: fixture('tag'), config: { name: 'T', phases: 'request', responseHeaders: { 'x-seen-by': 'tag', 'x-denied-by': 'tag' } } }
    const app = await start(t, {
      wafer: { filters: { tagged, deny: { module: fixture('deny') } }, chain: ['tagged'] },
      routes: [{ path: '/denied', chain: ['tagged', 'deny'] }]
    })
    const echo = await fetch(`${app.url}/echo`)
    assert.equal(echo.status, 200)
    assert.equal(echo.headers.get('x-seen-by'), 'tag')
    const seen = await echo.json() as Echo
    assert.equal(seen.headers['x-seen-by'], undefined, 'not a request header')
    assert.equal(seen.headers['x-order'], 'T')
    assert.equal(echo.headers.get('x-denied-by'), 'tag')

    const stream = await fetch(`${app.url}/stream`)
    assert.equal(stream.headers.get('x-seen-by'), 'tag')
    assert.equal(await stream.text(), 'abc')

    const denied = await fetch(`${app.url}/denied`)
    assert.equal(denied.status, 403)
    assert.equal(denied.headers.get('x-seen-by'), 'tag', 'a later filter\'s local response carries them too')
    assert.equal(denied.headers.get('x-denied-by'), 'deny', 'the local response sets this header itself, and wins')
    await denied.arrayBuffer()
  })

  test(`${adapter}: response filter: stamp marks the reply, also a streamed one, which still streams`, async (t) => {
    const app = await start(t, { wafer: { filters: { stamp: { module: fixture('stamp') } }, chain: ['stamp'] } })
    const res = await fetch(`${app.url}/echo`)
    assert.equal(res.status, 200)
    assert.equal(res.headers.get('x-stamped'), 'a')
    assert.equal((await res.json() as Echo).headers['x-stamp'], 'a', 'the request phase ran too')

    const head = await fetch(`${app.url}/echo`, { method: 'HEAD' })
    assert.equal(head.status, 200)
    assert.equal(head.headers.get('x-stamped'), 'a')
    assert.equal(await head.text(), '')

    const stream = await fetch(`${app.url}/stream`)
    assert.equal(stream.status, 200)
    assert.equal(stream.headers.get('x-stamped'), 'a')
    assert.equal(stream.headers.get('transfer-encoding'), 'chunked', 'not buffered to compute a length')
    assert.equal(await stream.text(), 'abc')
  })

  test(`${adapter}: response phase: reverse order, and it runs on a filter's own response`, async (t) => {
    const app = await start(t, {
      wafer: {
        filters: {
          a: { module: fixture('tag'), config: { name: 'A' } },
          b: { module: fixture('tag'), config: { name: 'B' } },
          stamp: { module: fixture('stamp') },
          deny: { module: fixture('deny') }
        }
      },
      routes: [{ path: '/ordered', chain: ['a', 'b'] }, { path: '/denied', chain: ['stamp', 'deny', 'a'] }]
    })
    const ordered = await fetch(`${app.url}/ordered`)
    assert.equal(ordered.headers.get('x-order'), 'B,A')
    assert.equal((await ordered.json() as Echo).headers['x-order'], 'A,B')

    const denied = await fetch(`${app.url}/denied`)
    assert.equal(denied.status, 403)
    assert.equal(denied.headers.get('x-denied-by'), 'deny')
    assert.equal(denied.headers.get('x-stamped'), 'a', 'stamp passed the request, so its response phase ran')
    assert.equal(denied.headers.get('x-order'), null, 'a filter after the one that responded never ran')
    assert.equal(await denied.text(), 'denied')
  })

  test(`${adapter}: body filter: the route's body parser sees the body the filter left`, async (t) => {
    const app = await start(t, {
      wafer: { filters: { tag: { module: fixture('tag'), config: { name: 'T' } }, upper: { module: fixture('body-upper') } }, chain: ['tag', 'upper'] },
      bodyLimit: 1000
    })
    const json = await fetch(`${app.url}/echo`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"name":"wafer"}' })
    assert.equal(json.status, 200)
    const echo = await json.json() as Echo
    assert.deepEqual(echo.body, { NAME: 'WAFER' })
    assert.equal(echo.headers['x-body'], '16', 'the filter saw 16 characters')
    assert.equal(echo.headers['x-order'], 'T', 'the header-only filter ran first')
    assert.equal(echo.headers['content-length'], '16')

    const text = await fetch(`${app.url}/echo`, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: 'hello' })
    assert.equal((await text.json() as Echo).body, 'HELLO')

    const none = await (await fetch(`${app.url}/echo`)).json() as Echo
    assert.equal(none.headers['x-body'], 'none', 'a bodyless request still runs the body filter')

    const big = await fetch(`${app.url}/echo`, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: 'y'.repeat(50_000) })
    assert.equal(big.status, 413)
    assert.equal(big.headers.get('x-order'), 'T', 'the filter the request passed ran its response phase on the 413')
    const error = await big.json() as { statusCode: number, code: string, error: string, message: string }
    assert.deepEqual({ ...error, message: undefined }, { statusCode: 413, code: 'WAFER_ERR_BODY_TOO_LARGE', error: 'Payload Too Large', message: undefined })
    assert.match(error.message, /exceeds the limit of 1000 bytes/)

    const after = await fetch(`${app.url}/echo`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"a":"b"}' })
    assert.deepEqual((await after.json() as Echo).body, { A: 'B' }, 'the server keeps serving')
  })

  test(`${adapter}: response body filter: rewrites the reply body; over responseBodyLimit it is a 500`, async (t) => {
    const filters = { wrap: { module: fixture('body-upper'), config: { response: true } } }
    const routes = [{ path: '/wrapped', chain: ['wrap'] }]
    const app = await start(t, { wafer: { filters }, routes })
    const res = await fetch(`${app.url}/wrapped`)
    const body = await res.text()
    assert.equal(res.status, 200)
    assert.match(body, /^\[\{"method":"GET","url":"\/wrapped".*\}\]$/, 'the echo, wrapped in brackets')
    assert.equal(res.headers.get('content-length'), String(Buffer.byteLength(body)))

    const limited = await start(t, { wafer: { filters, responseBodyLimit: 64 }, routes })
    const big = await fetch(`${limited.url}/wrapped`)
    assert.equal(big.status, 500)
    assert.equal(big.headers.get('content-type'), 'application/json; charset=utf-8')
    assert.equal((await big.json() as { code: string }).code, 'WAFER_ERR_RESPONSE_TOO_LARGE')
  })

  test(`${adapter}: failure policy: fail-closed answers a JSON 503 naming the filter and logs it; fail-open skips`, async (t) => {
    const log = captureLogger('info')
    const app = await start(t, {
      wafer: {
        filters: {
          trap: { module: fixture('trap') },
          lenient: { module: fixture('trap'), failurePolicy: 'fail-open' },
          stamp: { module: fixture('stamp') }
        }
      },
      logger: log.logger,
      routes: [{ path: '/closed', chain: ['stamp', 'trap'] }, { path: '/open', chain: ['lenient', 'stamp'] }]
    })
    for (let i = 0; i < 2; i++) {
      const res = await fetch(`${app.url}/closed`)
      assert.equal(res.status, 503)
      assert.equal(res.headers.get('content-type'), 'application/json; charset=utf-8')
      assert.equal(res.headers.get('x-stamped'), 'a', 'the filter before it still ran its response phase')
      assert.deepEqual(await res.json(), { statusCode: 503, code: 'WAFER_ERR_FILTER_TRAP', error: 'Service Unavailable', message: 'Filter "trap" failed', filter: 'trap', reason: 'trap' })
    }
    const lines = log.lines.filter((l) => l.level === 50 && l.filter === 'trap')
    assert.equal(lines.length, 2, 'one error line per failed request')
    assert.match(String(lines[0]?.reqId), /^req-/)
    assert.notEqual(lines[0]?.reqId, lines[1]?.reqId)
    assert.match(String(lines[0]?.msg), /filter "trap" failed; request answered with an error \(fail-closed\)/)

    const open = await fetch(`${app.url}/open`)
    assert.equal(open.status, 200)
    assert.equal(open.headers.get('x-stamped'), 'a')
    assert.equal((await open.json() as Echo).url, '/open')
    assert.ok(log.lines.some((l) => l.level === 40 && l.filter === 'lenient' && /skipped \(fail-open\)/.test(l.msg)))
  })

  test(`${adapter}: hot reload: new requests get the new version, a request in flight finishes on its own`, async (t) => {
    let release: () => void = () => {}
    const held = new Promise<void>((resolve) => { release = resolve })
    let arrived: () => void = () => {}
    const inRoute = new Promise<void>((resolve) => { arrived = resolve })
    const app = await start(t, {
      wafer: { filters: { v: { module: fixture('variant-a') } }, chains: { main: ['v'] }, chain: 'main' },
      hold: () => { arrived(); return held }
    })
    const before = await fetch(`${app.url}/echo`)
    assert.equal(before.headers.get('x-variant-out'), 'a')
    assert.equal((await before.json() as Echo).headers['x-variant'], 'a')

    const slow = fetch(`${app.url}/slow`)
    await inRoute
    const report = await app.reload({ filters: { v: { module: fixture('variant-b') } }, chains: { main: ['v'] } })
    assert.equal(report.outcome, 'applied')
    assert.deepEqual(report.loaded, ['v'])

    const after = await fetch(`${app.url}/echo`)
    assert.equal(after.headers.get('x-variant-out'), 'b')
    assert.equal((await after.json() as Echo).headers['x-variant'], 'b')

    assert.deepEqual(app.runtime.status().draining, [{ generation: 1, inflight: 1 }], 'the old version waits for its request')
    release()
    const finished = await slow
    assert.equal(finished.headers.get('x-variant-out'), 'a', 'the request in flight kept its version, both ways')
    assert.equal((await finished.json() as Echo).headers['x-variant'], 'a')
    await until('the old version to drain', () => app.runtime.status().draining.length === 0)
  })

  test(`${adapter}: hot reload from a config file: the adapter's reload picks up the new file`, async (t) => {
    const dir = await mkdtemp(join(tmpdir(), 'wafer-e2e-'))
    const config = join(dir, 'gateway.yaml')
    const write = (variant: string) => writeFile(config, `filters:\n  v: { module: ${JSON.stringify(fixture(variant))} }\nchains:\n  main: [v]\n`)
    await write('variant-a')
    const app = await start(t, { wafer: { config, chain: 'main' } })
    assert.equal((await fetch(`${app.url}/echo`)).headers.get('x-variant-out'), 'a')
    await write('variant-b')
    assert.equal((await app.reloadConfig()).outcome, 'applied')
    assert.equal((await fetch(`${app.url}/echo`)).headers.get('x-variant-out'), 'b')
    await writeFile(config, 'filters: {}\nchains:\n  main: [gone]\n')
    const failed = await app.reloadConfig()
    assert.equal(failed.outcome, 'failed')
    assert.equal(failed.error?.code, 'WAFER_ERR_CONFIG_INVALID')
    assert.equal((await fetch(`${app.url}/echo`)).headers.get('x-variant-out'), 'b', 'the running version keeps serving')
  })
}
