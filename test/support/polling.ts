import { rename, writeFile } from 'node:fs/promises'

/**
 * Polls `check` every `everyMs` until it returns (or resolves to) something other than undefined
 * or false, and returns that; throws naming `what` after `timeoutMs`. For what a server finishes
 * just after the client has its answer (a closed response, a reload picked up by the file watch).
 * An async check is awaited: its promise is not the answer.
 */
export async function until<T> (what: string, check: () => T | undefined | false | Promise<T | undefined | false>, timeoutMs = 10_000, everyMs = 10): Promise<T> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const value = await check()
    if (value !== undefined && value !== false) return value
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, everyMs))
  }
}

/** Writes like an editor or a build tool: to a temporary file, then renamed over the target. */
export async function atomicWrite (file: string, bytes: Uint8Array | string): Promise<void> {
  const tmp = `${file}.tmp-${process.hrtime.bigint()}`
  await writeFile(tmp, bytes)
  await rename(tmp, file)
}
