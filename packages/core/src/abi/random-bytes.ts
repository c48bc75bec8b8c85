import { randomFillSync } from 'node:crypto'

/**
 * Cryptographically random bytes for guests, from a pool refilled in blocks. One
 * `randomFillSync` call costs about 6 µs whatever its size (a crypto job, and a getpid() system
 * call for the generator's fork check), so a filter that asks for 16 bytes per request (a
 * request id) would pay more for the call than for the bytes. Node.js's own `randomUUID` keeps
 * an entropy cache for the same reason. Every byte is handed out once: `used` only grows until the next refill.
 */
const POOL = 8 * 1024
// A plain Uint8Array: its `subarray` is a Uint8Array, where a Buffer's makes a FastBuffer.
const pool = new Uint8Array(POOL)
let used = POOL

/** Fills `target[offset, offset + len)` with random bytes. */
export function fillRandom (target: Uint8Array, offset: number, len: number): void {
  if (len > POOL / 4) {
    randomFillSync(target, offset, len)
    return
  }
  if (used + len > POOL) {
    randomFillSync(pool)
    used = 0
  }
  // A request id is 16 bytes: a loop copies those in about half the time of `set`, which
  // needs a view of the pool (an allocation) for every call.
  if (len <= 24) for (let i = 0; i < len; i++) target[offset + i] = pool[used + i] as number
  else target.set(pool.subarray(used, used + len), offset)
  used += len
}
