#!/usr/bin/env node
// Runs every *.test.ts with node's built-in test runner (TypeScript through tsx).
// Node 20 has no glob support in `node --test`, so the files are listed here.
// Usage: node scripts/test.mjs [substring ...]  (only files whose path contains one of them)
import { spawnSync } from 'node:child_process'
import { readdirSync, readFileSync } from 'node:fs'
import { join, dirname } from 'node:path'
import { fileURLToPath } from 'node:url'
import { ensureRedisServer } from './redis-server.mjs'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const dirs = ['packages', 'test', 'examples']
const files = []
for (const dir of dirs) {
  for (const entry of readdirSync(join(root, dir), { recursive: true })) {
    const rel = join(dir, String(entry))
    if (rel.includes('node_modules') || !rel.endsWith('.test.ts')) continue
    files.push(rel)
  }
}
const filters = process.argv.slice(2)
const selected = files.sort().filter((f) => filters.length === 0 || filters.some((s) => f.includes(s)))
if (selected.length === 0) {
  console.error(`no test files matched ${filters.join(' ')}`)
  process.exit(1)
}
// Files that start Redis servers fail one by one without the binary: say it once, up front.
if (selected.some((f) => readFileSync(join(root, f), 'utf8').includes('support/redis'))) {
  try {
    ensureRedisServer()
  } catch (err) {
    console.error(`${err.message}\n(\`npm test\` installs it with apt-get when it can.)`)
    process.exit(1)
  }
}
console.log(`node ${process.version}: ${selected.length} test files`)
const result = spawnSync(process.execPath, ['--import', 'tsx', '--test', '--test-reporter=spec', ...selected], {
  cwd: root, stdio: 'inherit', env: { ...process.env, WAFER_ROOT: root }
})
process.exit(result.status ?? 1)
