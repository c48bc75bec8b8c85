#!/usr/bin/env node
// Makes a fresh clone runnable: installs dependencies with pnpm (fetched through npx when it
// is not installed), compiles the TypeScript packages and every guest from source.
// Idempotent: install is skipped when node_modules is newer than the lockfile.
import { execFileSync } from 'node:child_process'
import { existsSync, statSync } from 'node:fs'
import { join, dirname } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const PNPM = 'pnpm@10.34.8'

function run (cmd, args) {
  execFileSync(cmd, args, { cwd: root, stdio: 'inherit', env: process.env })
}

function hasPnpm () {
  try {
    execFileSync('pnpm', ['--version'], { stdio: 'ignore' })
    return true
  } catch {
    return false
  }
}

const pnpm = hasPnpm() ? ['pnpm', []] : ['npx', ['--yes', PNPM]]
const marker = join(root, 'node_modules/.modules.yaml')
const lock = join(root, 'pnpm-lock.yaml')
if (!existsSync(marker) || (existsSync(lock) && statSync(lock).mtimeMs > statSync(marker).mtimeMs)) {
  run(pnpm[0], [...pnpm[1], 'install', '--frozen-lockfile'])
}
// In dependency order: each package's types come from the dist of those before it.
for (const pkg of ['core', 'redis-store', 'fastify', 'express', 'gateway']) {
  run(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', join(root, 'packages', pkg)])
}
run(process.execPath, [join(root, 'scripts/build-guests.mjs')])
