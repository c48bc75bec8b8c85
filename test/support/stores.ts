import { MemoryStore, type KvStore } from '@wafer/core'

/**
 * A store that answers like a remote one: each operation of the in-memory store `inner`,
 * delivered after `delayMs` (0: on the next turn of the event loop).
 */
export function delayedStore (delayMs = 0, inner = new MemoryStore()): { store: KvStore, inner: MemoryStore } {
  const later = <T>(fn: () => T): Promise<T> => new Promise((resolve) => {
    if (delayMs === 0) setImmediate(() => resolve(fn()))
    else setTimeout(() => resolve(fn()), delayMs)
  })
  const store: KvStore = {
    get: (k) => later(() => inner.get(k)),
    set: (k, v, o) => later(() => inner.set(k, v, o)),
    incr: (k, o) => later(() => inner.incr(k, o)),
    delete: (k) => later(() => inner.delete(k))
  }
  return { store, inner }
}
