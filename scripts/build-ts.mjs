#!/usr/bin/env node
// Builds the TypeScript packages incrementally, in dependency order.
//
// Usage: node scripts/build-ts.mjs [--root <dir>] [--force] [package ...]
//   (default: core redis-store fastify express gateway under <root>/packages)
//
// Each package is built with `tsc -b --incremental`, which skips it when its sources are older
// than its tsconfig.tsbuildinfo (kept beside tsconfig.json: out of dist/, so never packed).
// The packages' tsconfig.json files stay non-incremental, so `tsc -p` (a package's own
// `build`, scripts/pack.mjs) always emits everything. Build mode does not see three things,
// handled here by deleting the tsbuildinfo, which makes tsc build that package in full:
// - a deleted or partly deleted dist/ (tsc would emit nothing: its tsbuildinfo says done);
// - reinstalled dependencies (--force; setup passes it after `pnpm install`);
// - changed declarations of a workspace package it depends on.
import { execFileSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import { existsSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs'
import { join, dirname, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

const scriptFile = fileURLToPath(import.meta.url)
const repoRoot = join(dirname(scriptFile), '..')
const TSC = join(repoRoot, 'node_modules/typescript/bin/tsc')
// In dependency order: each package's types come from the dist of those before it.
export const TS_PACKAGES = ['core', 'redis-store', 'fastify', 'express', 'gateway']

function sourceFiles (dir, prefix = '') {
  const out = []
  for (const entry of readdirSync(join(dir, prefix), { withFileTypes: true })) {
    const rel = join(prefix, entry.name)
    if (entry.isDirectory()) out.push(...sourceFiles(dir, rel))
    else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts')) out.push(rel)
  }
  return out
}

/** A source whose .js or .d.ts is missing from dist/, or undefined when all are there. */
export function missingOutput (pkgDir) {
  for (const src of sourceFiles(join(pkgDir, 'src'))) {
    const base = join(pkgDir, 'dist', src.slice(0, -'.ts'.length))
    if (!existsSync(`${base}.js`) || !existsSync(`${base}.d.ts`)) return src
  }
  return undefined
}

/**
 * Deletes what dist/ holds for sources that no longer exist (tsc never removes an output), so a
 * renamed or deleted module cannot linger in the build, or in a packed tarball. Returns them.
 */
export function pruneOrphans (pkgDir) {
  const dist = join(pkgDir, 'dist')
  if (!existsSync(dist)) return []
  const pruned = []
  for (const file of readdirSync(dist, { recursive: true }).map(String)) {
    const m = /^(.*)\.(?:js|d\.ts)(?:\.map)?$/.exec(file)
    if (m === null || existsSync(join(pkgDir, 'src', `${m[1]}.ts`))) continue
    rmSync(join(dist, file), { force: true })
    pruned.push(file)
  }
  for (const dir of readdirSync(dist, { recursive: true, withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => join(e.parentPath ?? e.path, e.name)).sort().reverse()) {
    if (readdirSync(dir).length === 0) rmSync(dir, { recursive: true })
  }
  return pruned
}

/** sha256 over a package's emitted declarations: what the packages built after it compile against. */
function declarationsHash (pkgDir) {
  const dist = join(pkgDir, 'dist')
  if (!existsSync(dist)) return ''
  const hash = createHash('sha256')
  for (const file of readdirSync(dist, { recursive: true }).map(String).filter((f) => f.endsWith('.d.ts')).sort()) {
    hash.update(file).update(readFileSync(join(dist, file)))
  }
  return hash.digest('hex')
}

function mtime (file) {
  try {
    return statSync(file).mtimeMs
  } catch {
    return -1
  }
}

/**
 * Returns the packages tsc built and those it found up to date; throws when tsc fails. One tsc
 * process builds them all; a package left alone while a package it depends on changed its
 * declarations is built again in a second pass (and so on, which ends as declarations settle).
 */
export function buildTypeScript ({ root = repoRoot, packages = TS_PACKAGES, force = false } = {}) {
  const dirOf = (pkg) => join(root, 'packages', pkg)
  const infoOf = (pkg) => join(dirOf(pkg), 'tsconfig.tsbuildinfo')
  const upstreamOf = new Map(packages.map((pkg) => {
    const manifest = JSON.parse(readFileSync(join(dirOf(pkg), 'package.json'), 'utf8'))
    const names = Object.keys({ ...manifest.dependencies, ...manifest.devDependencies }).map((n) => n.replace(/^@wafer\//, ''))
    return [pkg, names.filter((n) => packages.includes(n))]
  }))
  for (const pkg of packages) pruneOrphans(dirOf(pkg))
  const built = new Set()
  let todo = packages.filter((pkg) => force || missingOutput(dirOf(pkg)) !== undefined)
  for (const pkg of todo) rmSync(infoOf(pkg), { force: true })
  todo = packages
  while (todo.length > 0) {
    const before = new Map(todo.map((pkg) => [pkg, { info: mtime(infoOf(pkg)), declarations: declarationsHash(dirOf(pkg)) }]))
    execFileSync(process.execPath, [TSC, '-b', '--incremental', ...todo.map(dirOf)], { cwd: root, stdio: 'inherit' })
    const rebuilt = todo.filter((pkg) => mtime(infoOf(pkg)) !== before.get(pkg).info)
    const changed = todo.filter((pkg) => declarationsHash(dirOf(pkg)) !== before.get(pkg).declarations)
    for (const pkg of rebuilt) built.add(pkg)
    // tsc builds in the order given, so a package rebuilt in this pass already saw its upstream.
    todo = packages.filter((pkg) => !rebuilt.includes(pkg) && upstreamOf.get(pkg).some((u) => changed.includes(u)))
    for (const pkg of todo) rmSync(infoOf(pkg), { force: true })
  }
  return { built: packages.filter((pkg) => built.has(pkg)), upToDate: packages.filter((pkg) => !built.has(pkg)) }
}

if (process.argv[1] && resolve(process.argv[1]) === scriptFile) {
  const args = process.argv.slice(2)
  const rootAt = args.indexOf('--root')
  const root = rootAt >= 0 ? resolve(args[rootAt + 1]) : repoRoot
  const packages = args.filter((a, i) => !a.startsWith('--') && (rootAt < 0 || i !== rootAt + 1))
  const started = Date.now()
  let result
  try {
    result = buildTypeScript({ root, packages: packages.length > 0 ? packages : TS_PACKAGES, force: args.includes('--force') })
  } catch {
    process.exit(1) // tsc printed its errors
  }
  const { built, upToDate } = result
  console.log(`build-ts: built ${built.length}${built.length ? ` (${built.join(', ')})` : ''}, up to date ${upToDate.length} in ${Date.now() - started} ms`)
}
