#!/usr/bin/env node
// Makes a fresh clone runnable: installs dependencies with pnpm (fetched through npx when it
// is not installed), compiles the TypeScript packages and every guest from source.
//
// Usage: node scripts/setup.mjs [--redis]
//   --redis  first make sure redis-server is installed (the tests start their own): install it
//            with apt-get when possible, else stop at once saying what to install.
//
// Every step is incremental, so a repeat run with nothing changed takes about a second:
// - install only when node_modules is older than the lockfile;
// - scripts/build-ts.mjs: `tsc -b --incremental` per package, in full only when its dist/ is
//   incomplete, dependencies were reinstalled or a package it depends on changed its types;
// - scripts/build-guests.mjs rebuilds only guests whose inputs changed.
import { execFileSync } from 'node:child_process'
import { existsSync, statSync } from 'node:fs'
import { join, dirname } from 'node:path'
import { fileURLToPath } from 'node:url'
import { buildTypeScript } from './build-ts.mjs'
import { ensureRedisServer } from './redis-server.mjs'
import { pnpmCommand } from './pnpm.mjs'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')

function run (cmd, args) {
  execFileSync(cmd, args, { cwd: root, stdio: 'inherit', env: process.env })
}


function install () {
  const marker = join(root, 'node_modules/.modules.yaml')
  const lock = join(root, 'pnpm-lock.yaml')
  if (existsSync(marker) && !(existsSync(lock) && statSync(lock).mtimeMs > statSync(marker).mtimeMs)) return false
  const pnpm = pnpmCommand()
  run(pnpm[0], [...pnpm[1], 'install', '--frozen-lockfile'])
  return true
}

const started = Date.now()
if (process.argv.includes('--redis')) {
  try {
    ensureRedisServer({ install: true })
  } catch (err) {
    console.error(err.message)
    process.exit(1)
  }
}
const reinstalled = install()
try {
  const { built, upToDate } = buildTypeScript({ force: reinstalled })
  console.log(`build-ts: built ${built.length}${built.length ? ` (${built.join(', ')})` : ''}, up to date ${upToDate.length}`)
} catch {
  process.exit(1) // tsc printed its errors
}
run(process.execPath, [join(root, 'scripts/build-guests.mjs')])
console.log(`setup: ready in ${((Date.now() - started) / 1000).toFixed(1)} s`)
