import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import type { TestContext } from 'node:test'
import { root } from './index.ts'

/**
 * A child process serving a shared-data filter (`module`, with `rootId` for SDKs that need one)
 * on Redis, with its own Wafer runtime and RedisStore (shared-data-child.ts): its /count route
 * holds requests until `barrier` have arrived. Resolves to its URL; the process is stopped
 * after the test.
 */
export async function startSharedDataChild (t: TestContext, redisUrl: string, keyPrefix: string, module: string, barrier: number, rootId?: string): Promise<string> {
  const args = [join(root, 'test/support/shared-data-child.ts'), redisUrl, keyPrefix, module, String(barrier), ...(rootId === undefined ? [] : [rootId])]
  const proc = spawn(process.execPath, ['--import', 'tsx', ...args], { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] })
  t.after(async () => {
    if (proc.exitCode !== null) return
    const exited = once(proc, 'exit')
    proc.kill('SIGTERM')
    await exited
  })
  const lines = createInterface({ input: proc.stdout })
  for await (const line of lines) return (JSON.parse(line) as { url: string }).url
  throw new Error('the child process exited before it listened')
}
