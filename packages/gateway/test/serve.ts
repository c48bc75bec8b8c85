// Runs the `wafer` CLI as users do: a child process.
import { spawn, type ChildProcess } from 'node:child_process'
import { join } from 'node:path'
import type { TestContext } from 'node:test'
import { root } from '../../../test/support/index.ts'

export const CLI = join(root, 'packages/gateway/dist/cli.js')

/** Starts `wafer serve` and resolves with its URL once it logged that it listens. `env` adds to the environment. */
export async function serve (t: TestContext, args: string[], env: Record<string, string> = {}): Promise<{ child: ChildProcess, url: string, adminUrl: string | undefined, output: () => string }> {
  const child = spawn(process.execPath, [CLI, 'serve', ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } })
  t.after(() => child.kill('SIGKILL'))
  let out = ''
  child.stdout?.on('data', (c: Buffer) => { out += c.toString() })
  child.stderr?.on('data', (c: Buffer) => { out += c.toString() })
  const listening = /^wafer: listening on (http:\/\/127\.0\.0\.1:\d+)(?: \(admin (http:\/\/127\.0\.0\.1:\d+)\))?$/m
  const m = await new Promise<RegExpExecArray>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`serve did not say it listens within 20 s:\n${out}`)), 20_000)
    child.stdout?.on('data', () => {
      const found = listening.exec(out)
      if (found !== null) { clearTimeout(timer); resolve(found) }
    })
    child.once('exit', (code) => { clearTimeout(timer); reject(new Error(`serve exited with ${String(code)}:\n${out}`)) })
  })
  const url = m[1] as string
  const admin = m[2]
  return { child, url, adminUrl: admin, output: () => out }
}

