/** A value, or a promise of it: in-memory stores answer synchronously, remote ones do not. */
export type MaybePromise<T> = T | Promise<T>

export interface CounterResult {
  /** The counter's value after the increment. */
  value: number
  /** Milliseconds until the counter expires; -1 if it never does. */
  ttlMs: number
}

export interface SetOptions {
  /** Time to live in milliseconds; 0 or absent means no expiry. */
  ttlMs?: number
}

export interface IncrOptions {
  /** Amount to add (an integer; may be negative). Default 1. */
  by?: number
  /** Time to live given to the counter when the increment creates it; 0 or absent means no expiry. */
  ttlMs?: number
}

/**
 * The host key-value store filters reach through the `kv_*` imports. Keys arrive already
 * namespaced per filter. Implementations must make `incr` atomic: it is what makes rate limits
 * exact. Methods may answer synchronously (return a value) or asynchronously (return a
 * promise); the runtime delivers synchronous answers to the filter without leaving the tick.
 */
export interface KvStore {
  get (key: string): MaybePromise<Uint8Array | undefined>
  set (key: string, value: Uint8Array, options?: SetOptions): MaybePromise<void>
  incr (key: string, options?: IncrOptions): MaybePromise<CounterResult>
  /** Resolves to whether the key existed. */
  delete (key: string): MaybePromise<boolean>
  close? (): MaybePromise<void>
}
