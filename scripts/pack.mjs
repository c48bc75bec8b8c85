#!/usr/bin/env node
// Packs every package in packages/ into the tarball `npm publish` would upload, with pnpm, which
// turns `workspace:*` dependencies into real versions. Until the packages are on the registry,
// a project outside this repository installs these (docs/writing-filters.md):
//
//   npm run pack                       # install if needed, then dist-pack/wafer-core-0.1.0.tgz, ...
//   node scripts/pack.mjs --out <dir> [--no-build]
//
// It rebuilds the TypeScript packages from an empty dist/ first, so no output of a renamed or
// deleted source is shipped (--no-build packs dist/ as it is), and fails if a
// tarball holds anything that is not meant for users: tests, build debris, compiled output
// without its source, or a dependency still pointing into the workspace.
import { execFileSync } from 'node:child_process'
import { mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { join, dirname, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { gunzipSync } from 'node:zlib'
import { pnpmCommand } from './pnpm.mjs'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const TS_PACKAGES = ['core', 'redis-store', 'fastify', 'express', 'gateway']

const { values } = parseArgs({ options: { out: { type: 'string' }, 'no-build': { type: 'boolean' } } })
const out = resolve(values.out ?? join(root, 'dist-pack'))


if (values['no-build'] !== true) {
  for (const pkg of TS_PACKAGES) {
    rmSync(join(root, 'packages', pkg, 'dist'), { recursive: true, force: true })
    try {
      execFileSync(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', join(root, 'packages', pkg)], { cwd: root, stdio: 'inherit' })
    } catch {
      console.error(`pack: packages/${pkg} does not build (the errors are above); nothing was packed`)
      process.exit(1)
    }
  }
}

mkdirSync(out, { recursive: true })
for (const file of readdirSync(out)) if (/^wafer-.*\.tgz$/.test(file)) rmSync(join(out, file))
const [cmd, pre] = pnpmCommand()
const packed = JSON.parse(execFileSync(cmd, [...pre, '-r', '--filter', './packages/**', 'pack', '--pack-destination', out, '--json'], {
  cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit']
}))

/** The files in a .tgz (ustar: 512-byte headers, name split into prefix and name). */
function tarEntries (file) {
  const tar = gunzipSync(readFileSync(file))
  const entries = []
  for (let at = 0; at + 512 <= tar.length;) {
    const header = tar.subarray(at, at + 512)
    if (header.every((b) => b === 0)) break
    const text = (from, to) => header.subarray(from, to).toString('utf8').replace(/\0.*$/s, '')
    const prefix = text(345, 500)
    const name = (prefix === '' ? '' : `${prefix}/`) + text(0, 100)
    const size = parseInt(text(124, 136).trim() || '0', 8)
    const data = tar.subarray(at + 512, at + 512 + size)
    entries.push({ path: name.replace(/^package\//, ''), data })
    at += 512 + Math.ceil(size / 512) * 512
  }
  return entries
}

const DEBRIS = [/(^|\/)(test|tests|__tests__|fixtures|coverage|node_modules|build)\//, /\.test\.[cm]?[jt]s$/, /\.tsbuildinfo$/, /\.wasm$/, /\.cpuprofile$/, /(^|\/)\.[^/]+$/]
const problems = []
const list = Array.isArray(packed) ? packed : [packed]
for (const p of list) {
  const entries = tarEntries(p.filename)
  const paths = new Set(entries.map((e) => e.path))
  for (const path of paths) {
    if (DEBRIS.some((re) => re.test(path))) problems.push(`${p.name}: ${path} is not meant for users`)
    const compiled = /^dist\/(.*)\.(js|d\.ts)$/.exec(path)
    if (compiled !== null && !paths.has(`src/${compiled[1]}.ts`)) problems.push(`${p.name}: ${path} has no source (src/${compiled[1]}.ts): a leftover of an old build`)
  }
  const manifest = JSON.parse(entries.find((e) => e.path === 'package.json').data.toString('utf8'))
  for (const field of ['dependencies', 'peerDependencies', 'optionalDependencies']) {
    for (const [dep, range] of Object.entries(manifest[field] ?? {})) {
      if (String(range).startsWith('workspace:')) problems.push(`${p.name}: ${field}.${dep} is still ${range}`)
    }
  }
  console.log(`${p.filename}  ${paths.size} files`)
}
if (problems.length > 0) {
  for (const p of list) rmSync(p.filename, { force: true }) // nobody installs what failed the check
  console.error(`pack: ${problems.length} problems, no tarball kept:\n  - ${problems.join('\n  - ')}`)
  process.exit(1)
}
