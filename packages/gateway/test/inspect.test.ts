// `wafer inspect` on Proxy-Wasm modules, as users run it (a child process): the ABI version,
// how the module was recognised, and every import marked with what Wafer does with it, read from
// the host's own tables (spec.ts PROXY_CALLS, wasi.ts WASI_CALLS), so the output and the host
// cannot disagree.
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { test } from 'node:test'
import { PROXY_CALLS } from '../../core/src/abi/proxy-wasm/spec.ts'
import { WASI_CALLS } from '../../core/src/abi/proxy-wasm/wasi.ts'
import { fixture } from '../../../test/support/index.ts'
import { CLI } from './serve.ts'

function inspect (file: string, json = false): Promise<{ code: number | null, stdout: string, stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, 'inspect', file, ...(json ? ['--json'] : [])], { stdio: ['ignore', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (c: Buffer) => { stdout += c.toString() })
    child.stderr.on('data', (c: Buffer) => { stderr += c.toString() })
    const timer = setTimeout(() => { child.kill('SIGKILL'); reject(new Error(`wafer inspect ${file} did not exit`)) }, 20_000)
    child.on('exit', (code) => { clearTimeout(timer); resolve({ code, stdout, stderr }) })
  })
}

/** The mark `wafer inspect` should print after an import the tables know, from the tables. */
function expectedMark (module: string, name: string): string {
  const call = module === 'env' ? PROXY_CALLS[name] : WASI_CALLS[name]
  assert.ok(call !== undefined, `${module}.${name} is in the host's tables`)
  const answers: Record<number, string> = { 1: 'NOT_FOUND', 12: 'UNIMPLEMENTED' }
  const answer = 'answer' in call && call.answer !== undefined ? `: answers ${answers[call.answer] ?? String(call.answer)}` : ''
  return call.support === 'supported' ? '' : call.support === 'partial' ? '  ! partial (docs/proxy-wasm.md)' : `  ! not supported${answer}`
}

/** The import line for `module.name`, and what follows its signature. */
function importLine (stdout: string, module: string, name: string): string {
  const line = stdout.split('\n').find((l) => l.startsWith(`  ${module}.${name} `))
  assert.ok(line !== undefined, `${module}.${name} is listed:\n${stdout}`)
  return line.replace(/^.*?-> (\(\)|i32|i64)/, '')
}

test('inspect: every import of a Proxy-Wasm module is marked supported, partial, not supported, unknown or with a bad signature', async () => {
  const r = await inspect(fixture('proxy-inspect'))
  assert.equal(r.code, 1, 'the module is refused when it loads, so inspect exits 1')
  assert.match(r.stdout, /^abi {7}none usable: WAFER_ERR_ABI_BAD_SIGNATURE: .*"env"\."proxy_get_property"/m)
  assert.match(r.stdout, /^proxy {5}proxy-wasm 0\.2\.1 \(proxy_abi_version_0_2_1\); imports: /m)
  for (const [module, name] of [['env', 'proxy_log'], ['env', 'proxy_get_buffer_bytes'], ['env', 'proxy_grpc_call'], ['wasi_snapshot_preview1', 'fd_write'], ['wasi_snapshot_preview1', 'path_open']] as const) {
    assert.equal(importLine(r.stdout, module, name), expectedMark(module, name), `${module}.${name}`)
  }
  assert.equal(importLine(r.stdout, 'env', 'proxy_log'), '', 'a supported call carries no mark')
  assert.equal(importLine(r.stdout, 'env', 'proxy_grpc_call'), '  ! not supported: answers UNIMPLEMENTED')
  assert.equal(importLine(r.stdout, 'env', 'envoy_report_usage'), '  ! unknown: the host does not provide it; the module is refused')
  assert.equal(importLine(r.stdout, 'env', 'proxy_get_property'), '  ! refused: the host provides it with another signature')

  const json = JSON.parse((await inspect(fixture('proxy-inspect'), true)).stdout) as { proxyWasm: { version: string, marked: boolean, imports: Array<{ name: string, support: string, answer?: string }> } }
  assert.equal(json.proxyWasm.version, '0.2.1')
  assert.equal(json.proxyWasm.marked, true)
  assert.deepEqual(json.proxyWasm.imports.find((i) => i.name === 'envoy_report_usage'), { module: 'env', name: 'envoy_report_usage', support: 'unknown' })
  assert.equal(json.proxyWasm.imports.find((i) => i.name === 'proxy_grpc_call')?.answer, 'UNIMPLEMENTED')
})

test('inspect: SDK-built and unmarked Proxy-Wasm modules show their version, how it was found, and their imports against the tables', async () => {
  const solo = await inspect(fixture('proxy-solo-headers'))
  assert.equal(solo.code, 0, solo.stderr)
  assert.match(solo.stdout, /^abi {7}proxy-wasm\/0\.2\.0 \(request and response phase\)$/m)
  assert.match(solo.stdout, /^proxy {5}proxy-wasm 0\.2\.0 \(proxy_abi_version_0_2_0\); imports: \d+ supported/m)
  assert.equal(importLine(solo.stdout, 'env', 'proxy_get_property'), expectedMark('env', 'proxy_get_property'))
  assert.equal(importLine(solo.stdout, 'wasi_unstable', 'proc_exit'), expectedMark('wasi_snapshot_preview1', 'proc_exit'))

  const gcore = await inspect(fixture('proxy-sdk-headers'))
  assert.equal(gcore.code, 0, gcore.stderr)
  assert.match(gcore.stdout, /^proxy {5}proxy-wasm 0\.2\.1 \(proxy_abi_version_0_2_1\); imports: /m)
  assert.equal(importLine(gcore.stdout, 'env', 'proxy_send_local_response'), expectedMark('env', 'proxy_send_local_response'))

  const old = await inspect(fixture('proxy-v010-unmarked'))
  assert.equal(old.code, 0, old.stderr)
  assert.match(old.stdout, /^abi {7}proxy-wasm\/0\.1\.0 \(request and response phase\)$/m)
  assert.match(old.stdout, /^proxy {5}proxy-wasm 0\.1\.0 \(no version marker: recognised by its 0\.1\.0 signatures\); imports: /m)
  assert.equal(importLine(old.stdout, 'env', 'proxy_get_configuration'), expectedMark('env', 'proxy_get_configuration'))
})

test('inspect: a native module gets no Proxy-Wasm line and no marks', async () => {
  const r = await inspect(fixture('noop'))
  assert.equal(r.code, 0, r.stderr)
  assert.doesNotMatch(r.stdout, /^proxy /m)
  assert.doesNotMatch(r.stdout, / {2}! /)
})
