export type RedisStoreFailure = 'timeout' | 'unavailable' | 'overloaded' | 'closed'

/**
 * A store operation the store itself gave up on, as opposed to an error Redis answered with.
 * `reason` is meant for metrics (`onError`): `timeout` (no answer within `timeoutMs`),
 * `unavailable` (not connected, or the connection was lost before the answer), `overloaded`
 * (`maxPending` operations already waiting) or `closed` (the store was closed).
 */
export class RedisStoreError extends Error {
  readonly reason: RedisStoreFailure
  /** Whether the operation reached Redis, so may have been applied although it failed here. */
  readonly sent: boolean

  constructor (reason: RedisStoreFailure, message: string, options: { sent: boolean, cause?: unknown }) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause })
    this.name = 'RedisStoreError'
    this.reason = reason
    this.sent = options.sent
  }
}
