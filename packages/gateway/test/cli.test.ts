// The `wafer` command as users run it: a child process, its exit code and its output.
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { mkdtemp, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test, type TestContext } from 'node:test'
import { exampleFilter, fixture, root } from '../../../test/support/index.ts'
import { CLI, serve } from './serve.ts'


function wafer (args: string[], timeoutMs = 20_000): Promise<{ code: number | null, stdout: string, stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (c: Buffer) => { stdout += c.toString() })
    child.stderr.on('data', (c: Buffer) => { stderr += c.toString() })
    const timer = setTimeout(() => { child.kill('SIGKILL'); reject(new Error(`wafer ${args.join(' ')} did not exit:\n${stdout}\n${stderr}`)) }, timeoutMs)
    child.on('exit', (code) => { clearTimeout(timer); resolve({ code, stdout, stderr }) })
  })
}

async function configFile (name: string, text: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'wafer-cli-'))
  const file = join(dir, name)
  await writeFile(file, text)
  return file
}

test('validate: the example gateway config is valid and every module loads', async () => {
  const r = await wafer(['validate', '--config', join(root, 'examples/gateway/gateway.yaml')])
  assert.equal(r.code, 0, r.stderr)
  assert.match(r.stdout, /✓ .*gateway\.yaml: 4 filters, 2 chains, 2 routes; every module loaded/)
})

test('validate: a typo and a wrong type are reported with their JSON paths, exit 1', async () => {
  const file = await configFile('typo.yaml', `
server:
  prot: 8080
filters:
  auth:
    module: ${exampleFilter('auth')}
    pool: { max: 0 }
`)
  const r = await wafer(['validate', '--config', file])
  assert.equal(r.code, 1)
  assert.match(r.stderr, /typo\.yaml/)
  assert.match(r.stderr, /\/server\/prot/)
  assert.match(r.stderr, /\/filters\/auth\/pool\/max/)
})

test('validate: a module with an unknown ABI version fails naming the file, exit 1', async () => {
  const file = await configFile('abi.json', JSON.stringify({ filters: { old: { module: fixture('abi-v9') } }, chains: { c: ['old'] } }))
  const r = await wafer(['validate', '--config', file])
  assert.equal(r.code, 1)
  assert.match(r.stderr, /abi-v9\.wasm declares ABI version 9/)
})

test('validate: a chain naming an undeclared filter fails naming both, exit 1', async () => {
  const file = await configFile('ref.json', JSON.stringify({ filters: { auth: { module: exampleFilter('auth'), config: { keys: ['k'] } } }, chains: { api: ['auth', 'nope'] } }))
  const r = await wafer(['validate', '--config', file])
  assert.equal(r.code, 1)
  assert.match(r.stderr, /nope/)
  assert.match(r.stderr, /\/chains\/api/)
})

test('serve: a broken config exits non-zero with the errors, before listening', async () => {
  const file = await configFile('broken.yaml', 'filters: {}\nroutes:\n  - match: { path: no-slash }\n    respond: { status: 200 }\n')
  const r = await wafer(['serve', '--config', file, '--port', '0'])
  assert.equal(r.code, 1)
  assert.match(r.stderr, /\/routes\/0\/match\/path/)
  assert.doesNotMatch(r.stdout + r.stderr, /listening/)
})

test('serve: listens, answers, uses the client request id, and exits 0 on SIGTERM after in-flight work', async (t) => {
  const { child, url, output } = await serve(t, ['--config', join(root, 'examples/gateway/gateway.yaml'), '--port', '0', '--admin-port', '0'])
  const res = await fetch(`${url}/health`, { headers: { 'x-request-id': 'trace-123' } })
  assert.equal(res.status, 200)
  assert.equal(await res.text(), '{"ok":true}')
  assert.equal(res.headers.get('x-request-id'), 'trace-123')
  const exited = new Promise<number | null>((resolve) => child.once('close', resolve))
  child.kill('SIGTERM')
  assert.equal(await exited, 0)
  assert.match(output(), /"reqId":"trace-123"/)
  assert.match(output(), /SIGTERM: finishing in-flight requests/)
})

test('serve: SIGHUP reloads the config', async (t) => {
  const file = await configFile('hup.json', JSON.stringify({ server: { port: 0 }, admin: { enabled: false }, filters: {}, routes: [{ match: { path: '/v', type: 'exact' }, respond: { status: 200, body: 'one' } }] }))
  const { child, url, output } = await serve(t, ['--config', file, '--no-watch'])
  assert.equal(await (await fetch(`${url}/v`)).text(), 'one')
  await writeFile(file, JSON.stringify({ server: { port: 0 }, admin: { enabled: false }, filters: {}, routes: [{ match: { path: '/v', type: 'exact' }, respond: { status: 200, body: 'two' } }] }))
  child.kill('SIGHUP')
  const deadline = Date.now() + 10_000
  let body = ''
  while (Date.now() < deadline && body !== 'two') {
    body = await (await fetch(`${url}/v`)).text()
    if (body !== 'two') await new Promise((resolve) => setTimeout(resolve, 20))
  }
  assert.equal(body, 'two')
  // The new version can answer before the reload's log line has crossed the pipe.
  while (Date.now() < deadline && !/reload: generation 1 -> 2/.test(output())) await new Promise((resolve) => setTimeout(resolve, 20))
  assert.match(output(), /reload: generation 1 -> 2/)
})

test('inspect: ABI, exports and imports with signatures, size and sha256', async () => {
  const r = await wafer(['inspect', exampleFilter('rate-limit')])
  assert.equal(r.code, 0, r.stderr)
  assert.match(r.stdout, /^abi {7}wafer-native\/2 \(request phase\)$/m)
  assert.match(r.stdout, /^sha256 {4}[0-9a-f]{64}$/m)
  assert.match(r.stdout, /^ {2}wafer_on_request +\(\) -> i32$/m)
  assert.match(r.stdout, /^ {2}wafer\.kv_incr +\(i32, i32, i32, i32, i32\) -> i32$/m)
  assert.match(r.stdout, /^ {2}memory +memory$/m)
  const json = JSON.parse((await wafer(['inspect', exampleFilter('rate-limit'), '--json'])).stdout) as { abi: string, size: number }
  assert.equal(json.abi, 'wafer-native/2 (request phase)')
  assert.ok(json.size > 1000)
})

test('inspect: a module that speaks no known ABI is described, with exit 1; garbage is refused', async () => {
  const r = await wafer(['inspect', fixture('proxy-abi-0-3')])
  assert.equal(r.code, 1)
  assert.match(r.stdout, /abi {7}none usable: WAFER_ERR_ABI_VERSION/)
  assert.match(r.stdout, /proxy_abi_version_0_3_0/)
  const proxy = await wafer(['inspect', fixture('proxy-wasm')])
  assert.equal(proxy.code, 0, proxy.stderr)
  assert.match(proxy.stdout, /^abi {7}proxy-wasm\/0\.2\.1 \(request phase\)$/m)
  const garbage = await configFile('bad.wasm', 'not wasm')
  const g = await wafer(['inspect', garbage])
  assert.equal(g.code, 1)
  assert.match(g.stderr, /is not a valid WebAssembly module/)
})

test('usage errors exit 2 with the usage text', async () => {
  const r = await wafer(['frobnicate'])
  assert.equal(r.code, 2)
  assert.match(r.stderr, /unknown command "frobnicate"/)
  assert.match(r.stderr, /wafer serve --config/)
  assert.equal((await wafer(['serve'])).code, 2)
})
