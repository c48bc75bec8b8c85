// Wafer as a user outside this repository gets it: `npm run pack` tarballs installed with npm
// into a new project in a temporary directory, a filter compiled there with the SDK and the
// documented asc command, run in a Fastify app, an Express app and through the `wafer` CLI.
// Needs the npm registry (fastify, express, assemblyscript and the packages' dependencies).
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { execFile, spawn } from 'node:child_process'
import { createServer } from 'node:http'
import { mkdtemp, readdir, readFile, realpath, rm, writeFile, mkdir } from 'node:fs/promises'
import type { AddressInfo } from 'node:net'
import { readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { delimiter, dirname, join, relative, sep } from 'node:path'
import { once } from 'node:events'
import { createInterface } from 'node:readline'
import { promisify } from 'node:util'
import { root } from '../support/index.ts'

const run = promisify(execFile)
const PACKAGES = ['core', 'redis-store', 'fastify', 'express', 'gateway', 'sdk-assemblyscript']

// The outer `npm test` passes its settings down as npm_config_*, and node:test marks its children;
// the user's shell has none of that. (WAFER_CACHE_DIR stays: CI points it at a fresh directory.)
const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^(npm_|pnpm_|NODE_TEST_CONTEXT$|WAFER_ROOT$)/i.test(k)))
// The bins (asc, wafer: `#!/usr/bin/env node`) run on the Node.js running this test (CI runs it on 20 and 24).
env.PATH = `${dirname(process.execPath)}${delimiter}${env.PATH ?? ''}`

/** The build command docs/writing-filters.md gives, as written there: `npx --no-install asc ...`. */
const BUILD = (/```sh\n(npx --no-install asc [^`]*?)```/.exec(readFileSync(join(root, 'docs/writing-filters.md'), 'utf8'))?.[1] ?? '')
  .replaceAll('\\\n', ' ').trim().split(/\s+/)

// The README's filter example, as it is written there.
const FILTER = /## Writing a filter\n[\s\S]*?```ts\n([\s\S]*?)```/.exec(readFileSync(join(root, 'README.md'), 'utf8'))?.[1] ?? ''

const APPS = `import Fastify from 'fastify'
import express from 'express'
import wafer from '@wafer/fastify'
import { createWaferMiddleware } from '@wafer/express'

const filters = { tenant: { module: './build/my-filter.wasm' } }
const probe = async (url) => {
  const without = await fetch(url + '/hello')
  const withTenant = await fetch(url + '/hello', { headers: { 'x-tenant': 'acme' } })
  return { without: [without.status, await without.text()], with: [withTenant.status, await withTenant.json()] }
}

const app = Fastify()
await app.register(wafer, { filters, chain: ['tenant'] })
app.get('/hello', async (req) => ({ checked: req.headers['x-tenant-checked'] ?? null }))
const fastifyResult = await probe(await app.listen({ port: 0, host: '127.0.0.1' }))
await app.close()

const middleware = await createWaferMiddleware({ filters, chain: ['tenant'] })
const eapp = express()
eapp.use(middleware)
eapp.get('/hello', (req, res) => { res.json({ checked: req.headers['x-tenant-checked'] ?? null }) })
const server = eapp.listen(0, '127.0.0.1')
await new Promise((resolve) => server.once('listening', resolve))
const expressResult = await probe('http://127.0.0.1:' + server.address().port)
server.close()
await middleware.close()

console.log(JSON.stringify({ fastify: fastifyResult, express: expressResult }))
`

const RESOLVE = `const names = ['@wafer/core', '@wafer/fastify', '@wafer/express', '@wafer/gateway', '@wafer/redis-store', '@wafer/sdk-assemblyscript/package.json', 'fastify', 'assemblyscript/asc']
console.log(JSON.stringify(names.map((n) => import.meta.resolve(n))))
`

test('the packed packages work in a new project outside the workspace: SDK build, Fastify, Express, the wafer CLI', { timeout: 10 * 60_000 }, async (t) => {
  const dir = await realpath(await mkdtemp(join(tmpdir(), 'wafer-outside-')))
  t.after(() => rm(dir, { recursive: true, force: true }))
  assert.ok(relative(root, dir).startsWith('..'), `${dir} must be outside ${root}, so nothing resolves from the workspace`)

  // 1. npm run pack (the suite has built dist/ already), then the tarballs pass the debris check.
  const tarballs = join(dir, 'tarballs')
  await run(process.execPath, [join(root, 'scripts/pack.mjs'), '--out', tarballs, '--no-build'], { cwd: root, env })
  const files = (await readdir(tarballs)).filter((f) => f.endsWith('.tgz')).sort()
  assert.deepEqual(files, PACKAGES.map((p) => `wafer-${p}-0.1.0.tgz`).sort())

  // 2. A new project installs them with npm, beside what it uses itself.
  const project = join(dir, 'project')
  await mkdir(join(project, 'assembly'), { recursive: true })
  await writeFile(join(project, 'package.json'), JSON.stringify({ name: 'my-gateway', private: true, type: 'module' }))
  const rootPkg = JSON.parse(await readFile(join(root, 'package.json'), 'utf8')) as { devDependencies: Record<string, string> }
  const dev = (name: string): string => `${name}@${rootPkg.devDependencies[name] as string}`
  await run('npm', ['install', '--no-audit', '--no-fund', '--loglevel=error', ...files.map((f) => join(tarballs, f)),
    dev('fastify'), dev('express'), dev('assemblyscript')], { cwd: project, env, maxBuffer: 16 << 20 })

  const resolved = JSON.parse((await run(process.execPath, ['--input-type=module', '-e', RESOLVE], { cwd: project, env })).stdout) as string[]
  for (const url of resolved) {
    assert.ok(new URL(url).pathname.startsWith(`${project}${sep}node_modules${sep}`), `${url} resolves inside the project`)
  }

  // 3. Each installed manifest has what publishing needs, and no workspace: range survived.
  for (const p of PACKAGES) {
    const pkg = JSON.parse(await readFile(join(project, 'node_modules/@wafer', p, 'package.json'), 'utf8')) as Record<string, unknown>
    for (const field of ['files', 'exports', 'types', 'engines', 'license', 'repository']) assert.ok(pkg[field] !== undefined, `@wafer/${p} has "${field}"`)
    assert.doesNotMatch(JSON.stringify(pkg), /workspace:/, `@wafer/${p} has no workspace: range`)
  }

  // 4. The README's filter, built with the documented command: the output is build/<name>.wasm.
  assert.match(FILTER, /registerFilter\(new RequireTenant\(\)\)/)
  await writeFile(join(project, 'assembly/index.ts'), FILTER)
  assert.deepEqual(BUILD.slice(0, 4), ['npx', '--no-install', 'asc', 'assembly/index.ts'])
  assert.equal(BUILD[BUILD.indexOf('--outFile') + 1], 'build/my-filter.wasm')
  await run(BUILD[0] as string, BUILD.slice(1), { cwd: project, env })
  const inspect = await run(join(project, 'node_modules/.bin/wafer'), ['inspect', 'build/my-filter.wasm', '--json'], { cwd: project, env })
  const report = JSON.parse(inspect.stdout) as { abi?: string, imports: Array<{ module: string }> }
  assert.equal(report.abi, 'wafer-native/2 (request phase)')
  assert.ok(report.imports.every((i) => i.module === 'wafer'), 'the module imports only from "wafer"')

  // 5. In a Fastify app and an Express app.
  await writeFile(join(project, 'apps.mjs'), APPS)
  const { stdout } = await run(process.execPath, ['apps.mjs'], { cwd: project, env })
  const apps = JSON.parse(stdout.trim().split('\n').at(-1) as string) as Record<string, unknown> // after the middleware's log lines
  const expected = { without: [400, 'missing x-tenant'], with: [200, { checked: '1' }] }
  assert.deepEqual(apps, { fastify: expected, express: expected })

  // 6. Through the CLI, in front of the user's own service.
  const upstream = createServer((req, res) => {
    res.setHeader('content-type', 'application/json')
    res.end(JSON.stringify({ path: req.url, checked: req.headers['x-tenant-checked'] ?? null }))
  })
  upstream.listen(0, '127.0.0.1')
  await once(upstream, 'listening')
  t.after(() => upstream.close())
  const upstreamUrl = `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`
  await writeFile(join(project, 'gateway.yaml'), [
    'server: { host: 127.0.0.1, port: 0 }',
    'admin: { enabled: false }',
    'filters:',
    '  tenant: { module: ./build/my-filter.wasm, capabilities: [log] }',
    'routes:',
    '  - match: { path: /api/ }',
    '    chain: [tenant]',
    `    upstream: ${upstreamUrl}`,
    ''
  ].join('\n'))
  const wafer = join(project, 'node_modules/.bin/wafer')
  assert.equal((await run(wafer, ['--version'], { cwd: project, env })).stdout, '0.1.0\n')
  const validate = await run('npx', ['--no-install', 'wafer', 'validate', '--config', 'gateway.yaml'], { cwd: project, env }) // as documented
  assert.match(validate.stdout, /^✓ gateway\.yaml: 1 filters/)

  const serve = spawn(wafer, ['serve', '--config', 'gateway.yaml', '--no-watch'], { cwd: project, env, stdio: ['ignore', 'pipe', 'inherit'] })
  const exited = once(serve, 'exit')
  t.after(() => { if (serve.exitCode === null) serve.kill('SIGKILL') })
  let url: string | undefined
  for await (const line of createInterface({ input: serve.stdout })) {
    const m = /^wafer: listening on (\S+)/.exec(line)
    if (m !== null) { url = m[1]; break }
  }
  serve.stdout.resume() // the log lines that follow are not read
  assert.ok(url !== undefined, 'wafer serve says where it listens')
  const denied = await fetch(`${url}/api/items`)
  assert.equal(denied.status, 400)
  assert.equal(await denied.text(), 'missing x-tenant')
  const allowed = await fetch(`${url}/api/items?x=1`, { headers: { 'x-tenant': 'acme' } })
  assert.equal(allowed.status, 200)
  assert.deepEqual(await allowed.json(), { path: '/api/items?x=1', checked: '1' })
  serve.kill('SIGTERM')
  const [code] = await exited
  assert.equal(code, 0, 'SIGTERM stops the gateway cleanly')
})
