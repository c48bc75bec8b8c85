#!/usr/bin/env node
// Profiles one suite scenario under load and attributes the server's CPU time (self time, so
// callback hooks do not hide Fastify's frames inside Wafer's) to who owns the code: Wafer,
// Fastify, the WebAssembly guest, Node's internals, GC.
//
//   cd benchmarks && taskset -c 1 node suite/profile.mjs wasm-example-chain [seconds]
//
// Prints a table of owners and the top functions by self time. The raw profile is left in
// benchmarks/.profiles/<scenario>/ for Chrome DevTools, with summary.json (µs per request by
// function) for suite/profile-diff.mjs, which compares two scenarios function by function.
import { spawn } from 'node:child_process'
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import autocannon from 'autocannon'
import { body1kb, headers } from './scenarios.mjs'

const here = dirname(fileURLToPath(import.meta.url))
const name = process.argv[2] ?? 'wasm-example-chain'
const seconds = Number(process.argv[3] ?? 10)
const dir = join(here, '..', '.profiles', name)
rmSync(dir, { recursive: true, force: true })
mkdirSync(dir, { recursive: true })

function start (scenario, arg, profile) {
  const node = [...(profile ? ['--cpu-prof', `--cpu-prof-dir=${dir}`] : []), join(here, 'server.mjs'), scenario, ...(arg ? [arg] : [])]
  const child = spawn('taskset', ['-c', '0', process.execPath, ...node], { stdio: ['ignore', 'pipe', 'inherit'] })
  return new Promise((resolve, reject) => {
    child.stdout.once('data', (d) => resolve({ child, url: String(d).trim() }))
    child.once('exit', (code) => reject(new Error(`${scenario} exited with ${code}`)))
  })
}

const load = (url, duration) => new Promise((resolve, reject) => {
  const post = name.endsWith('body-1kb')
  autocannon({
    url: `${url}/api/items`, connections: 32, duration, method: post ? 'POST' : 'GET',
    ...(process.env.RATE ? { overallRate: Number(process.env.RATE) } : {}),
    headers: post ? { ...headers, 'content-type': 'application/json' } : headers, ...(post ? { body: body1kb } : {})
  }, (err, r) => err ? reject(err) : resolve(r))
})

const upstream = name.startsWith('gateway') ? await start('upstream') : undefined
const server = await start(name, upstream?.url, true)
const warm = await load(server.url, 2)
const r = await load(server.url, seconds)
const exited = new Promise((resolve) => server.child.once('exit', resolve))
server.child.kill('SIGTERM')
upstream?.child.kill('SIGTERM')
await exited

const file = readdirSync(dir).find((f) => f.endsWith('.cpuprofile'))
const profile = JSON.parse(readFileSync(join(dir, file), 'utf8'))
const byId = new Map(profile.nodes.map((n) => [n.id, n]))
const dt = new Map()
for (let i = 0; i < profile.samples.length; i++) dt.set(profile.samples[i], (dt.get(profile.samples[i]) ?? 0) + (profile.timeDeltas[i] ?? 0))

function owner (cf) {
  const u = cf.url
  if (cf.functionName === '(garbage collector)') return 'gc'
  if (cf.functionName === '(idle)' || cf.functionName === '(program)') return cf.functionName
  if (u.startsWith('wasm://')) return 'wasm guest'
  if (/packages\/core\//.test(u)) return 'wafer core'
  if (/packages\/fastify\//.test(u)) return 'wafer fastify'
  if (/node_modules\/.*(fastify|find-my-way|avvio|light-my-request|@fastify)/.test(u)) return 'fastify'
  if (/node_modules\/pino/.test(u)) return 'pino'
  if (u.startsWith('node:') || u === '') return 'node internals'
  if (/node_modules/.test(u)) return 'other deps'
  return 'other'
}

const owners = new Map()
const fns = new Map()
let total = 0
for (const n of profile.nodes) {
  const t = dt.get(n.id) ?? 0
  total += t
  const o = owner(n.callFrame)
  owners.set(o, (owners.get(o) ?? 0) + t)
  const key = `${n.callFrame.functionName || '(anonymous)'} ${n.callFrame.url.replace(/.*\/(node_modules|packages)\//, '')}:${n.callFrame.lineNumber + 1}`
  fns.set(key, { t: (fns.get(key)?.t ?? 0) + t, o })
}
void byId
const busy = total - (owners.get('(idle)') ?? 0)
// The profile covers the warm-up too, so per-request figures divide by both.
const requests = warm.requests.total + r.requests.total
const us = (t) => (t / requests).toFixed(2)
console.log(`${name}: ${Math.round(r.requests.average)} req/s; ${requests} requests profiled; busy ${(busy / 1000).toFixed(0)} ms of ${(total / 1000).toFixed(0)} ms sampled`)
console.log('(the profiler itself slows the server: compare shares and µs between profiles, not with the suite)\n')
console.log('| owner | share of busy time | µs per request |\n| --- | ---: | ---: |')
for (const [o, t] of [...owners].filter(([o]) => o !== '(idle)').sort((a, b) => b[1] - a[1])) console.log(`| ${o} | ${(100 * t / busy).toFixed(1)}% | ${us(t)} |`)
console.log('\ntop functions by self time (share, µs per request):')
for (const [k, { t, o }] of [...fns].sort((a, b) => b[1].t - a[1].t).slice(0, Number(process.env.TOP ?? 40))) {
  console.log(`${(100 * t / busy).toFixed(1).padStart(5)}% ${us(t).padStart(6)}  [${o}] ${k}`)
}

writeFileSync(join(dir, 'summary.json'), JSON.stringify({
  scenario: name, reqPerSec: Math.round(r.requests.average), requests,
  functions: Object.fromEntries([...fns].map(([k, { t, o }]) => [k, { us: t / requests, owner: o }]))
}))
