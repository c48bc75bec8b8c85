// Proxy-Wasm filters (docs/proxy-wasm.md) through both adapters over real sockets: unmodified
// filters built with the published AssemblyScript SDK (test/fixtures/guests/proxy-sdk-*.ts), an
// ABI 0.1.0 module, and hostile guests (bad pointers to every header and buffer call, hostile
// allocators, proc_exit), whose failures are read back from a real pino logger's JSON lines.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import type { WaferDefinition } from '@wafer/core'
import { fixture, until } from '../support/index.ts'
import { adapters, failure, runApp, type Echo } from '../support/adapter-apps.ts'

const HOSTILE_POINTERS: ReadonlyArray<[string, string]> = [
  ['a', 'proxy_get_header_map_value'], ['b', 'proxy_get_header_map_value'], ['c', 'proxy_add_header_map_value'],
  ['d', 'proxy_replace_header_map_value'], ['e', 'proxy_remove_header_map_value'], ['f', 'proxy_get_header_map_pairs'],
  ['g', 'proxy_set_header_map_pairs'], ['h', 'proxy_get_header_map_size'], ['i', 'proxy_get_buffer_bytes'],
  ['j', 'proxy_get_buffer_status'], ['k', 'proxy_set_buffer_bytes'], ['l', 'proxy_send_local_response'],
  ['m', 'proxy_get_property'], ['n', 'proxy_log'], ['o', 'fd_write'], ['p', 'fd_write']
]

for (const [adapter, make] of adapters) {
  test(`${adapter}: an unmodified SDK filter adds, replaces and removes request headers, reads pseudo-headers and properties, adds a response header, and logs from proxy_on_log`, async (t) => {
    const app = await runApp(t, make, { filters: { p: { module: fixture('proxy-sdk-headers'), config: 'hello' } }, chain: ['p'] })
    const { lines } = app
    const res = await fetch(`${app.url}/echo?x=1`, { headers: { 'x-user': 'ann', 'x-replace-me': 'a', 'x-remove-me': 'b' } })
    assert.equal(res.status, 200)
    const echo = await res.json() as Echo
    assert.equal(echo.url, '/echo?x=1')
    assert.equal(echo.headers['x-proxy-user'], 'ann')
    assert.equal(echo.headers['x-replace-me'], 'replaced')
    assert.equal(echo.headers['x-remove-me'], undefined)
    assert.equal(echo.headers['x-pseudo'], `GET /echo?x=1 http ${new URL(app.url).host}`)
    assert.equal(echo.headers['x-props'], 'GET /echo p 127.0.0.1 eos')
    const [sourcePort, destinationAddress, destinationPort] = (echo.headers['x-ports'] ?? '').split(' ')
    assert.ok(Number(sourcePort) > 0 && Number(sourcePort) < 65536 && Number(sourcePort) !== Number(new URL(app.url).port), `source.port is the client's: ${echo.headers['x-ports']}`)
    assert.deepEqual([destinationAddress, destinationPort], ['127.0.0.1', new URL(app.url).port], 'destination.address and destination.port are where the request came to')
    assert.equal(res.headers.get('x-proxy-response'), 'sdk')
    assert.equal(res.headers.get('x-upstream-status'), '200')
    assert.equal(res.headers.get('x-plugin-config'), 'hello', 'a string config is the plugin configuration, verbatim')
    await until('proxy_on_log', () => lines.some((l) => l.msg === '[INFO]: headers filter: on_log /echo?x=1 user=ann status=200'))
    assert.equal(lines.find((l) => l.msg.includes('on_log'))?.filter, 'p', 'guest output is logged with the filter name')

    const pairs = await fetch(`${app.url}/echo`, { headers: { 'x-pairs': 'yes', 'x-drop': 'gone', 'x-keep': 'kept', 'x-status': '201' } })
    assert.equal(pairs.status, 201, 'the response phase set :status')
    assert.equal(pairs.headers.get('x-upstream-status'), '200', 'after reading the status the route gave')
    const rewritten = (await pairs.json() as Echo).headers
    assert.deepEqual([rewritten['x-drop'], rewritten['x-keep'], rewritten['x-pairs']], [undefined, 'kept', 'yes'], 'set_header_map_pairs replaced the map with what the filter read, less x-drop')
    assert.ok(Number(rewritten['x-pair-count']) >= 4 + 5, `get_header_map_pairs read the pseudo-headers and every header: ${rewritten['x-pair-count']}`)

    const again = await fetch(`${app.url}/echo`, { headers: { 'x-user': 'bob' } })
    assert.equal((await again.json() as Echo).headers['x-proxy-user'], 'bob')
    await until('the second on_log', () => lines.some((l) => l.msg.includes('on_log /echo user=bob')))
    const pool = app.runtime.filter('p')?.status().pool
    assert.deepEqual([pool?.created, pool?.busy], [1, 0], 'one instance, back in the pool after each request')
    assert.equal(app.runtime.filter('p')?.status().abi, 'proxy-wasm/0.2.1')
  })

  test(`${adapter}: proxy_send_local_response answers the request; the route is not reached`, async (t) => {
    const app = await runApp(t, make, { filters: { p: { module: fixture('proxy-sdk-headers') } }, chain: ['p'] })
    const res = await fetch(`${app.url}/echo`, { headers: { 'x-deny': 'yes' } })
    assert.equal(res.status, 403)
    assert.equal(res.headers.get('x-denied-by'), 'sdk-headers')
    assert.match(res.headers.get('content-type') ?? '', /^text\/plain/)
    assert.equal(await res.text(), 'denied by proxy-wasm')
    assert.equal(res.headers.get('x-plugin-config'), null, 'no configuration: the plugin got an empty one')
  })

  test(`${adapter}: an object config is JSON-encoded into the plugin configuration`, async (t) => {
    const app = await runApp(t, make, { filters: { p: { module: fixture('proxy-sdk-headers'), config: { hosts: ['a.example'] } } }, chain: ['p'] })
    const res = await fetch(`${app.url}/echo`)
    assert.equal(res.headers.get('x-plugin-config'), '{"hosts":["a.example"]}')
  })

  test(`${adapter}: :path rewrites the request target under the request-target rule`, async (t) => {
    const app = await runApp(t, make, { filters: { path: { module: fixture('proxy-sdk-path') } }, chain: ['path'] })
    const { lines } = app
    const moved = await fetch(`${app.url}/old/items?q=1`)
    assert.equal((await moved.json() as Echo).url, '/new/items?q=1')
    const refused = await fetch(`${app.url}/old/items`, { headers: { 'x-bad-path': 'yes' } })
    assert.equal(refused.status, 503)
    assert.equal((await refused.json() as { code: string }).code, 'WAFER_ERR_ABI_BAD_OUTPUT')
    assert.match(failure(lines, 'path')?.message ?? '', /proxy_replace_header_map_value: the path "\/a\/\.\.\/b" is refused/)
  })

  test(`${adapter}: with proxyWasm.requestBody and responseBody the body callbacks get whole bodies; vmConfig and rootId reach the filter`, async (t) => {
    const app = await runApp(t, make, {
      filters: { body: { module: fixture('proxy-sdk-body'), proxyWasm: { requestBody: true, responseBody: true, vmConfig: { region: 'eu' }, rootId: 'edge' } } },
      chain: ['body']
    })
    assert.deepEqual(app.runtime.filter('body')?.status().needs, { requestBody: true, responseBody: true, skipRequestPhase: false, skipResponsePhase: false })
    const res = await fetch(`${app.url}/echo`, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: 'hello proxy' })
    assert.equal(res.status, 200)
    const text = await res.text()
    assert.ok(text.startsWith('[') && text.endsWith(']'), `prepended and appended: ${text}`)
    assert.equal(res.headers.get('content-length'), String(Buffer.byteLength(text)), 'the length follows the new body')
    const echo = JSON.parse(text.slice(1, -1)) as Echo
    assert.equal(echo.body, 'HELLO PROXY', 'the route read the body the filter wrote')
    assert.equal(echo.headers['content-length'], '11')
    assert.equal(res.headers.get('x-vm-config'), '{"region":"eu"}', 'a JSON VM configuration, as its text')
    assert.equal(res.headers.get('x-root-id'), 'edge')
    const get = await fetch(`${app.url}/echo`)
    assert.equal(get.status, 200, 'a request without a body: the headers callback continues at end_of_stream')
    assert.ok((await get.text()).startsWith('[{'))
  })

  test(`${adapter}: an ABI 0.1.0 module: proxy_get_configuration, and a pause after proxy_continue_request goes on`, async (t) => {
    const app = await runApp(t, make, { filters: { old: { module: fixture('proxy-v010'), config: 'v1' } }, chain: ['old'] })
    const res = await fetch(`${app.url}/echo`)
    assert.equal(res.status, 200)
    const echo = await res.json() as Echo
    assert.deepEqual([echo.headers['x-abi'], echo.headers['x-config']], ['0.1.0', 'v1'])
    assert.equal(app.runtime.filter('old')?.status().abi, 'proxy-wasm/0.1.0')
  })

  test(`${adapter}: proxy_on_configure returning false fails startup with WAFER_ERR_FILTER_CONFIG, quoting the filter's reason`, async () => {
    for (const [module, config, reason] of [
      [fixture('proxy-sdk-headers'), 'bad: no hosts', '[ERROR]: headers filter: configuration rejected: bad: no hosts'],
      [fixture('proxy-configure-false'), undefined, 'bad plugin configuration: expected a list of hosts']
    ] as const) {
      await assert.rejects(make({ filters: { p: { module, config } }, chain: ['p'] }), (err: Error & { code: string }) => {
        assert.equal(err.code, 'WAFER_ERR_FILTER_CONFIG')
        assert.ok(err.message.includes('Filter "p"') && err.message.includes('proxy_on_configure returned false'), err.message)
        assert.ok(err.message.includes(reason), err.message)
        return true
      })
    }
  })

  test(`${adapter}: a reload whose plugin configuration is rejected fails, and the old filter keeps serving`, async (t) => {
    const app = await runApp(t, make, { filters: { p: { module: fixture('proxy-sdk-headers'), config: 'v1' } }, chain: ['p'] })
    const report = await app.runtime.reload({ filters: { p: { module: fixture('proxy-sdk-headers'), config: 'bad again' } } })
    assert.equal(report.outcome, 'failed')
    assert.equal(report.error?.code, 'WAFER_ERR_FILTER_CONFIG')
    const res = await fetch(`${app.url}/echo`)
    assert.equal(res.headers.get('x-plugin-config'), 'v1')
  })

  test(`${adapter}: a bad pointer or length to any header, buffer, property or log call fails the request with WAFER_ERR_ABI_BAD_POINTER naming the call`, async (t) => {
    const cases = [...HOSTILE_POINTERS, ['x', 'proc_exit(2)'] as [string, string]]
    const filters: WaferDefinition['filters'] = {}
    for (const [c] of cases) filters[`ptr-${c}`] = { module: fixture('proxy-hostile-pointers'), config: c }
    const app = await runApp(t, make, { filters, routes: cases.map(([c]) => ({ path: `/ptr/${c}`, chain: [`ptr-${c}`] })) })
    const { lines } = app
    for (const [c, call] of cases) {
      const res = await fetch(`${app.url}/ptr/${c}`)
      const body = await res.json() as { code: string, filter: string }
      const code = c === 'x' ? 'WAFER_ERR_FILTER_TRAP' : 'WAFER_ERR_ABI_BAD_POINTER'
      assert.deepEqual([res.status, body.code, body.filter], [503, code, `ptr-${c}`], `case ${c} (${call})`)
      const err = failure(lines, `ptr-${c}`)
      assert.equal(err?.code, code, `case ${c}`)
      assert.ok(err?.message.includes(call), `case ${c}: ${err?.message}`)
      await until(`case ${c}'s instance discarded`, () => app.runtime.filter(`ptr-${c}`)?.status().pool.discarded === 1)
    }
  })

  test(`${adapter}: Pause with nothing to resume the request fails it under the failure policy: 503 fail-closed, skipped fail-open`, async (t) => {
    const app = await runApp(t, make, {
      filters: {
        closed: { module: fixture('proxy-hostile-pointers'), config: 'q' },
        open: { module: fixture('proxy-hostile-pointers'), config: 'q', failurePolicy: 'fail-open' }
      },
      routes: [{ path: '/closed', chain: ['closed'] }, { path: '/open', chain: ['open'] }]
    })
    const { lines } = app
    const closed = await fetch(`${app.url}/closed`)
    assert.deepEqual([closed.status, (await closed.json() as { code: string }).code], [503, 'WAFER_ERR_ABI_PAUSE_WITHOUT_PENDING'])
    assert.match(failure(lines, 'closed')?.message ?? '', /returned pause from proxy_on_request_headers \(action 1\)/)
    const open = await fetch(`${app.url}/open`)
    assert.equal(open.status, 200)
    assert.equal((await open.json() as Echo).url, '/open')
    assert.ok(lines.some((l) => l.filter === 'open' && l.level === 40 && /skipped \(fail-open\)/.test(l.msg)), 'the skip is logged at warn')
  })

  test(`${adapter}: a hostile allocator (returns 0, returns memory outside, loops, calls the host back) fails the request with a coded error, never a hang`, async (t) => {
    const cases: Array<[string, number, string | undefined, RegExp | undefined]> = [
      ['0', 503, 'WAFER_ERR_ABI_BAD_POINTER', /proxy_on_memory_allocate\(9\) for proxy_get_header_map_value returned 0/],
      ['o', 503, 'WAFER_ERR_ABI_BAD_POINTER', /returned 4294967040: \[4294967040, 4294967049\) is outside its 65536-byte memory/],
      ['l', 503, 'WAFER_ERR_FILTER_FUEL', /proxy_on_request_headers, in proxy_on_memory_allocate\(9\)/],
      ['r', 503, 'WAFER_ERR_ABI_BAD_OUTPUT', /proxy_get_header_map_value: called from inside the allocator/],
      ['k', 200, undefined, undefined]
    ]
    const filters: WaferDefinition['filters'] = {}
    for (const [c] of cases) filters[`alloc-${c}`] = { module: fixture('proxy-hostile-alloc'), config: c, limits: { fuel: 200_000 } }
    const app = await runApp(t, make, { filters, routes: cases.map(([c]) => ({ path: `/alloc/${c}`, chain: [`alloc-${c}`] })) })
    const { lines } = app
    for (const [c, status, code, message] of cases) {
      const res = await fetch(`${app.url}/alloc/${c}`, { headers: { 'x-k': '123456789' } })
      assert.equal(res.status, status, `case ${c}`)
      if (code === undefined) continue
      assert.equal((await res.json() as { code: string }).code, code, `case ${c}`)
      assert.match(failure(lines, `alloc-${c}`)?.message ?? '', message as RegExp, `case ${c}`)
    }
  })

  test(`${adapter}: huge header maps: a count that cannot fit and maps over limits.maxOutputBytes are refused with WAFER_ERR_ABI_BAD_OUTPUT; a request's large map is handed over whole`, async (t) => {
    const cases: Array<[string, RegExp]> = [
      ['c', /proxy_set_header_map_pairs: malformed header map: a count of 2147483647 pairs does not fit in 8 bytes/],
      ['s', /proxy_set_header_map_pairs: a write of 8192 bytes exceeds limits\.maxOutputBytes \(4096\)/],
      ['l', /proxy_send_local_response: a write of 8192 bytes exceeds limits\.maxOutputBytes \(4096\)/]
    ]
    const filters: WaferDefinition['filters'] = {}
    for (const c of ['c', 's', 'l', 'g']) filters[`huge-${c}`] = { module: fixture('proxy-huge-map'), config: c, limits: { maxOutputBytes: 4096 } }
    const app = await runApp(t, make, { filters, routes: ['c', 's', 'l', 'g'].map((c) => ({ path: `/huge/${c}`, chain: [`huge-${c}`] })) })
    const { lines } = app
    for (const [c, message] of cases) {
      const res = await fetch(`${app.url}/huge/${c}`)
      assert.equal(res.status, 503, `case ${c}`)
      assert.equal((await res.json() as { code: string }).code, 'WAFER_ERR_ABI_BAD_OUTPUT', `case ${c}`)
      assert.match(failure(lines, `huge-${c}`)?.message ?? '', message, `case ${c}`)
    }
    // 150 headers of 57 serialised bytes each: a map far over maxOutputBytes, which bounds what
    // the guest writes, not what the host hands it.
    const many: Record<string, string> = {}
    for (let i = 0; i < 150; i++) many[`x-h-${String(i).padStart(3, '0')}`] = 'v'.repeat(40)
    const res = await fetch(`${app.url}/huge/g`, { headers: many })
    assert.equal(res.status, 200)
    const size = Number((await res.json() as Echo).headers['x-map-size'])
    assert.ok(size > 150 * 57 && size < 10_000, `the guest got the whole map: ${size} bytes`)
    assert.equal(app.runtime.filter('huge-g')?.status().pool.discarded, 0, 'the instance was not discarded')
  })
}
