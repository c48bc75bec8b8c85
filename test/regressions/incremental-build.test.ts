// Every `npm test` and `npm run demo` used to rebuild all 44 guests and all five TypeScript
// packages (50-80 s) although nothing had changed. scripts/build-guests.mjs now skips a guest
// whose recorded inputs (every file the compiler read or looked for, the compiler versions, the
// build script) are unchanged, and scripts/build-ts.mjs runs `tsc -b --incremental`, covering
// the cases build mode misses. These tests run both on a small tree of their own.
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { appendFileSync, cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { test, type TestContext } from 'node:test'
import { promisify } from 'node:util'
import { root } from '../support/index.ts'

const run = promisify(execFile)

function tempTree (t: TestContext, files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'wafer-build-'))
  t.after(() => rmSync(dir, { recursive: true, force: true }))
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true })
    writeFileSync(join(dir, path), text)
  }
  return dir
}

async function script (name: string, dir: string, ...args: string[]): Promise<string> {
  const { stdout } = await run(process.execPath, [join(root, 'scripts', name), '--root', dir, ...args])
  return stdout.trim()
}

test('build-guests: a repeat build compiles only the guests whose inputs changed', async (t) => {
  const dir = tempTree(t, {
    // Imports one SDK file, which imports another (host.ts): both are inputs.
    'test/fixtures/guests/small.ts': [
      'import "@wafer/sdk-assemblyscript/assembly/abort";',
      'export function answer(n: i32): i32 {',
      '  if (n < 0) abort("negative");',
      '  return n + 42;',
      '}',
      ''
    ].join('\n'),
    'test/fixtures/guests/tiny.wat': '(module (func (export "f") (result i32) i32.const 1))\n'
  })
  const sdk = join(dir, 'node_modules/@wafer/sdk-assemblyscript')
  cpSync(join(root, 'packages/sdk-assemblyscript'), sdk, { recursive: true, filter: (src) => !src.includes('node_modules') })
  const out = (name: string) => join(dir, 'test/fixtures/build', `${name}.wasm`)
  const build = (...args: string[]) => script('build-guests.mjs', dir, ...args)

  assert.match(await build(), /^build-guests: built 2 \(small, tiny\), up to date 0 /)
  assert.ok(WebAssembly.validate(readFileSync(out('small'))))
  assert.ok(WebAssembly.validate(readFileSync(out('tiny'))))
  assert.match(await build(), /^build-guests: built 0, up to date 2 /)

  // An SDK file the guest reaches through another one.
  appendFileSync(join(sdk, 'assembly/host.ts'), '\n// changed\n')
  assert.match(await build(), /^build-guests: built 1 \(small\), up to date 1 /)
  // An SDK file it never imports.
  appendFileSync(join(sdk, 'assembly/json-writer.ts'), '\n// changed\n')
  assert.match(await build(), /^build-guests: built 0, up to date 2 /)

  // Its own source; its output deleted or replaced.
  writeFileSync(join(dir, 'test/fixtures/guests/tiny.wat'), '(module (func (export "f") (result i32) i32.const 2))\n')
  assert.match(await build(), /^build-guests: built 1 \(tiny\), up to date 1 /)
  rmSync(out('tiny'))
  assert.match(await build(), /^build-guests: built 1 \(tiny\), up to date 1 /)
  writeFileSync(out('tiny'), readFileSync(out('small')))
  assert.match(await build(), /^build-guests: built 1 \(tiny\), up to date 1 /)
  assert.equal(readFileSync(out('tiny')).length < readFileSync(out('small')).length, true)

  // A file asc looked for and did not find, which now exists, changes the output too.
  writeFileSync(join(dir, 'asconfig.json'), '{"options": {"debug": true}}\n')
  assert.match(await build(), /^build-guests: built 1 \(small\), up to date 1 /)
  assert.match(await build('tiny', '--force'), /^build-guests: built 1 \(tiny\), up to date 0 /)
})

test('build-ts: unchanged packages are skipped; deleted output, reinstalled deps and changed upstream types are rebuilt', async (t) => {
  const tsconfig = JSON.stringify({
    compilerOptions: {
      rootDir: 'src', outDir: 'dist', module: 'NodeNext', moduleResolution: 'NodeNext', target: 'ES2022',
      lib: ['ES2022'], types: [], strict: true, declaration: true, skipLibCheck: true
    },
    include: ['src']
  })
  const dir = tempTree(t, {
    'packages/a/package.json': JSON.stringify({ name: '@wafer/a', type: 'module', types: './dist/index.d.ts', exports: { '.': { types: './dist/index.d.ts', default: './dist/index.js' } } }),
    'packages/a/tsconfig.json': tsconfig,
    'packages/a/src/index.ts': 'export const a: number = 1\nexport { extra } from \'./extra.js\'\n',
    'packages/a/src/extra.ts': 'export const extra = 2\n',
    'packages/b/package.json': JSON.stringify({ name: '@wafer/b', type: 'module', dependencies: { '@wafer/a': 'workspace:*' } }),
    'packages/b/tsconfig.json': tsconfig,
    'packages/b/src/index.ts': 'import { a } from \'@wafer/a\'\nexport const b = a.toFixed(1)\n'
  })
  mkdirSync(join(dir, 'node_modules/@wafer'), { recursive: true })
  symlinkSync(join(dir, 'packages/a'), join(dir, 'node_modules/@wafer/a'), 'dir')
  const build = (...args: string[]) => script('build-ts.mjs', dir, 'a', 'b', ...args)

  assert.match(await build(), /^build-ts: built 2 \(a, b\), up to date 0 /)
  assert.match(await build(), /^build-ts: built 0, up to date 2 /)

  // tsc alone would emit nothing here: its tsbuildinfo says the package is done.
  rmSync(join(dir, 'packages/a/dist/extra.js'))
  assert.match(await build(), /^build-ts: built 1 \(a\), up to date 1 /)
  assert.equal(readFileSync(join(dir, 'packages/a/dist/extra.js'), 'utf8').includes('extra = 2'), true)
  rmSync(join(dir, 'packages/b/dist'), { recursive: true })
  assert.match(await build(), /^build-ts: built 1 \(b\), up to date 1 /)
  assert.match(await build('--force'), /^build-ts: built 2 \(a, b\), up to date 0 /)

  // b's sources did not change, but it no longer compiles against a's new declarations.
  writeFileSync(join(dir, 'packages/a/src/index.ts'), 'export const a: string = \'x\'\nexport { extra } from \'./extra.js\'\n')
  await assert.rejects(build(), (err: Error & { stdout: string }) => {
    assert.match(err.stdout, /packages\/b\/src\/index\.ts.*error TS[0-9]+: Property 'toFixed' does not exist on type 'string'/)
    return true
  })
  writeFileSync(join(dir, 'packages/b/src/index.ts'), 'import { a } from \'@wafer/a\'\nexport const b = a.length\n')
  assert.match(await build(), /^build-ts: built 1 \(b\), up to date 1 /)
  assert.match(await build(), /^build-ts: built 0, up to date 2 /)

  // A deleted source leaves nothing behind in dist/ (tsc never removes an output itself).
  writeFileSync(join(dir, 'packages/a/src/index.ts'), 'export const a: string = \'x\'\nexport const extra = 2\n')
  rmSync(join(dir, 'packages/a/src/extra.ts'))
  await build()
  assert.equal(existsSync(join(dir, 'packages/a/dist/extra.js')), false, 'the deleted source\'s output is pruned')
  assert.equal(existsSync(join(dir, 'packages/a/dist/extra.d.ts')), false)
})

// A cold build of the whole tree once failed: after a guest with its own `--config` (the WASI
// shim the Proxy-Wasm SDK needs), asc kept the shim's library files for the next compilations
// in the process, and plain guests after it no longer compiled.
test('build-guests: a guest with its own asc --config does not break the plain guests built after it', async (t) => {
  const dir = tempTree(t, {
    'test/fixtures/guests/a-wasi.ts': [
      '// asc: --config node_modules/@assemblyscript/wasi-shim/asconfig.json --use abort=abort_proc_exit',
      'export function f(): i32 { return 1; }',
      ''
    ].join('\n'),
    'test/fixtures/guests/b-plain.ts': [
      'import "@wafer/sdk-assemblyscript/assembly/abort";',
      'export function g(): i32 { return 2; }',
      ''
    ].join('\n')
  })
  cpSync(join(root, 'packages/sdk-assemblyscript'), join(dir, 'node_modules/@wafer/sdk-assemblyscript'), { recursive: true, filter: (src) => !src.includes('node_modules') })
  mkdirSync(join(dir, 'node_modules/@assemblyscript'), { recursive: true })
  symlinkSync(join(root, 'node_modules/@assemblyscript/wasi-shim'), join(dir, 'node_modules/@assemblyscript/wasi-shim'))
  assert.match(await script('build-guests.mjs', dir), /^build-guests: built 2 \(b-plain, a-wasi\), up to date 0 /)
  for (const name of ['a-wasi', 'b-plain']) assert.ok(WebAssembly.validate(readFileSync(join(dir, 'test/fixtures/build', `${name}.wasm`))), name)
})

// AssemblyScript 0.14 (for @solo-io/proxy-runtime) and the current release both define the same
// globals (`signbit`, ...): loaded into one realm, the second fails to load. A cold build, which
// compiles the current release's guests first, failed on every 0.14 guest; the older release now
// runs in a worker thread of its own.
test('build-guests: guests on AssemblyScript 0.14 build in the same run as guests on the current release', async (t) => {
  const dir = tempTree(t, {
    'test/fixtures/guests/a-current.ts': 'import "@wafer/sdk-assemblyscript/assembly/abort";\nexport function f(): i32 { return 1; }\n',
    'test/fixtures/guests/b-legacy.ts': [
      '// asc[assemblyscript-0.14]: --use abort=',
      'export function g(): i32 { return 2; }',
      ''
    ].join('\n'),
    'test/fixtures/guests/c-current.ts': 'import "@wafer/sdk-assemblyscript/assembly/abort";\nexport function h(): i32 { return 3; }\n'
  })
  cpSync(join(root, 'packages/sdk-assemblyscript'), join(dir, 'node_modules/@wafer/sdk-assemblyscript'), { recursive: true, filter: (src) => !src.includes('node_modules') })
  assert.match(await script('build-guests.mjs', dir), /^build-guests: built 3 \(a-current, b-legacy, c-current\), up to date 0 /)
  const exported = { 'a-current': 'f', 'b-legacy': 'g', 'c-current': 'h' }
  for (const [name, fn] of Object.entries(exported)) {
    const mod = new WebAssembly.Module(readFileSync(join(dir, 'test/fixtures/build', `${name}.wasm`)))
    assert.ok(WebAssembly.Module.exports(mod).some((e) => e.name === fn), `${name} exports ${fn}`)
  }
})
