import { randomBytes } from 'node:crypto'
import type { TestContext } from 'node:test'
import { Redis } from 'ioredis'
import { RedisStore, type RedisStoreOptions } from '../src/index.ts'

/** A key prefix no other test (or other run against a shared REDIS_URL) uses. */
export function uniquePrefix (): string {
  return `wafer-test:${randomBytes(6).toString('hex')}:`
}

/**
 * A store closed when the test ends; its own prefix unless the options say otherwise. Tests
 * that are not about timeouts get a generous one, so a loaded machine does not fail them.
 */
export function openStore (t: TestContext, options: RedisStoreOptions): RedisStore {
  const keyPrefix = options.keyPrefix ?? uniquePrefix()
  const store = new RedisStore({ timeoutMs: 5000, ...options, keyPrefix })
  t.after(async () => {
    await store.close()
    // A shared server (REDIS_URL) is left as it was found; spawned ones are thrown away.
    if (options.url !== undefined && options.url === process.env.REDIS_URL) await deleteKeys(options.url, keyPrefix)
  })
  return store
}

/** Deletes every key under `keyPrefix`: cleaning up after a test on a shared server. */
export async function deleteKeys (url: string, keyPrefix: string): Promise<void> {
  const client = new Redis(url, { maxRetriesPerRequest: 0, disconnectTimeout: 100 })
  try {
    for await (const keys of client.scanStream({ match: `${keyPrefix}*`, count: 1000 })) {
      if ((keys as string[]).length > 0) await client.del(...(keys as string[]))
    }
  } finally {
    client.disconnect()
  }
}

/** A plain client to look at what the store wrote, closed when the test ends. */
export function rawClient (t: TestContext, url: string): Redis {
  const client = new Redis(url, { maxRetriesPerRequest: 0, disconnectTimeout: 100 })
  t.after(() => { client.disconnect() })
  return client
}

/** How long `fn` took to settle, and its rejection (undefined if it resolved). */
export async function timed (fn: () => Promise<unknown>): Promise<{ ms: number, error: unknown }> {
  const start = performance.now()
  try {
    await fn()
    return { ms: performance.now() - start, error: undefined }
  } catch (error) {
    return { ms: performance.now() - start, error }
  }
}

/** Retries `fn` until it resolves, for at most `withinMs`; returns its value. */
export async function eventually<T> (fn: () => Promise<T>, withinMs: number): Promise<T> {
  const deadline = Date.now() + withinMs
  for (;;) {
    try {
      return await fn()
    } catch (err) {
      if (Date.now() > deadline) throw err
      await new Promise((resolve) => setTimeout(resolve, 25))
    }
  }
}
