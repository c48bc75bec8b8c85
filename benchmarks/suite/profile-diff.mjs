#!/usr/bin/env node
// Where one scenario's server time goes beyond another's, function by function: reads the
// summary.json that suite/profile.mjs leaves for each, and prints the functions whose self time
// per request differs most (positive: the first scenario spends more).
//
//   cd benchmarks && taskset -c 1 node suite/profile.mjs bare 10
//   taskset -c 1 node suite/profile.mjs wasm-example-chain 10
//   node suite/profile-diff.mjs wasm-example-chain bare
//
// Both profiles were taken under the profiler, at different moments of a shared machine: read
// differences of a few tenths of a µs as noise, and the totals by owner before single lines.
import { existsSync, readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const here = dirname(fileURLToPath(import.meta.url))
const [a, b] = process.argv.slice(2)
if (a === undefined || b === undefined) {
  console.error('usage: node suite/profile-diff.mjs <scenario> <baseline scenario> (profile both first with suite/profile.mjs)')
  process.exit(2)
}
const read = (name) => {
  const file = join(here, '..', '.profiles', name, 'summary.json')
  if (!existsSync(file)) {
    console.error(`no profile of ${name} (${file}): run \`taskset -c 1 node suite/profile.mjs ${name}\` first`)
    process.exit(2)
  }
  return JSON.parse(readFileSync(file, 'utf8'))
}
const A = read(a)
const B = read(b)
const idle = (k) => k.startsWith('(idle)')
const rows = new Map()
for (const [k, v] of Object.entries(A.functions)) if (!idle(k)) rows.set(k, { owner: v.owner, a: v.us, b: 0 })
for (const [k, v] of Object.entries(B.functions)) {
  if (idle(k)) continue
  const row = rows.get(k) ?? { owner: v.owner, a: 0, b: 0 }
  row.b = v.us
  rows.set(k, row)
}
const owners = new Map()
let ta = 0
let tb = 0
for (const { owner, a: x, b: y } of rows.values()) {
  const o = owners.get(owner) ?? { a: 0, b: 0 }
  o.a += x
  o.b += y
  owners.set(owner, o)
  ta += x
  tb += y
}
const f = (x) => x.toFixed(2).padStart(7)
console.log(`${a} (${A.reqPerSec} req/s) against ${b} (${B.reqPerSec} req/s), busy µs per request under the profiler\n`)
console.log(`| owner | ${a} | ${b} | difference |\n| --- | ---: | ---: | ---: |`)
for (const [o, { a: x, b: y }] of [...owners].sort((p, q) => (q[1].a - q[1].b) - (p[1].a - p[1].b))) console.log(`| ${o} | ${f(x)} | ${f(y)} | ${f(x - y)} |`)
console.log(`| total | ${f(ta)} | ${f(tb)} | ${f(ta - tb)} |`)
console.log('\nlargest differences by function (µs per request):')
const top = [...rows].sort((p, q) => Math.abs(q[1].a - q[1].b) - Math.abs(p[1].a - p[1].b)).slice(0, Number(process.env.TOP ?? 40))
for (const [k, { owner, a: x, b: y }] of top) console.log(`${f(x - y)}  (${f(x)} vs ${f(y)})  [${owner}] ${k}`)
