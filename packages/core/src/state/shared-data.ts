/**
 * Proxy-Wasm shared data (`proxy_get_shared_data` / `proxy_set_shared_data`; docs/proxy-wasm.md,
 * "Shared data"): a table of byte values with a compare-and-swap number, scoped by VM id as in
 * Envoy. Host calls are synchronous, so both methods are: the in-memory table here answers at
 * once; `@wafer/redis-store`'s answers reads from a local mirror and writes with a bounded,
 * blocking round trip to Redis.
 */

/** A value and its CAS number, which changes on every write of the key (never 0). */
export interface SharedDataEntry {
  readonly value: Uint8Array
  readonly cas: number
}

/**
 * What a set did: `ok`; `cas-mismatch` (the key was written since the guest read its CAS);
 * `full` (a new key past the table's bound); `unavailable` (the backing store did not answer in
 * time: the write may or may not have been applied).
 */
export type SharedDataSetResult = 'ok' | 'cas-mismatch' | 'full' | 'unavailable'

/**
 * The table behind Proxy-Wasm shared data. `slot` is the VM id and the key in one string, as
 * `sharedDataSlot` builds it. `get` answers `undefined` for a missing key and `'unavailable'`
 * when it cannot know (a remote table out of reach); neither method ever throws or waits longer
 * than the table's own bound.
 */
export interface SharedData {
  get (slot: string): SharedDataEntry | undefined | 'unavailable'
  /** `cas` 0 sets unconditionally; another value must be the key's current CAS, or the key must be missing (as in Envoy). */
  set (slot: string, value: Uint8Array, cas: number): SharedDataSetResult
  /** Resolves once the table can answer (a remote one has connected), or after its time bound. Never rejects. */
  ready? (): Promise<void>
  close? (): void | Promise<void>
}

/** A store that brings its own shared-data table (`@wafer/redis-store`: shared by every process on one Redis). */
export interface SharedDataProvider {
  /** The store's table, created on the first call and closed with the store. */
  sharedData (): SharedData
}

/** Whether `store` brings its own shared-data table. */
export function providesSharedData (store: object): store is SharedDataProvider {
  return typeof (store as Partial<SharedDataProvider>).sharedData === 'function'
}

/**
 * The prefix of every slot of VM `vmId`: its length first, so that no (VM id, key) pair can
 * spell another's (`2:ab:` then the key).
 */
export function vmSlotPrefix (vmId: string): string {
  return `${vmId.length}:${vmId}:`
}

/** Most keys an in-memory table holds, all VM ids together. */
export const SHARED_DATA_MAX_KEYS = 100_000

/**
 * CAS numbers come from one counter per table, as in proxy-wasm-cpp-host: 1, 2, ... wrapping to
 * 1 after 2^32 - 1 (0 means "no CAS" to `set`). `n` is the counter's value (from 1).
 */
export function casOf (n: number): number {
  return ((n - 1) % 0xFFFF_FFFF) + 1
}

class Entry implements SharedDataEntry {
  value: Uint8Array
  cas: number
  constructor (value: Uint8Array, cas: number) {
    this.value = value
    this.cas = cas
  }
}

/**
 * The default table: one process, every filter of the runtime. Values are copied in (the guest's
 * memory is reused) and handed out as they are (the host copies them into the guest).
 */
export class MemorySharedData implements SharedData {
  readonly #map = new Map<string, Entry>()
  readonly #maxKeys: number
  #n = 0

  constructor (maxKeys = SHARED_DATA_MAX_KEYS) {
    this.#maxKeys = maxKeys
  }

  get (slot: string): SharedDataEntry | undefined {
    return this.#map.get(slot)
  }

  set (slot: string, value: Uint8Array, cas: number): SharedDataSetResult {
    const e = this.#map.get(slot)
    if (e === undefined) {
      if (this.#map.size >= this.#maxKeys) return 'full'
      this.#map.set(slot, new Entry(Uint8Array.from(value), casOf(++this.#n)))
      return 'ok'
    }
    if (cas !== 0 && cas !== e.cas) return 'cas-mismatch'
    e.value = Uint8Array.from(value)
    e.cas = casOf(++this.#n)
    return 'ok'
  }

  get size (): number {
    return this.#map.size
  }

  close (): void {
    this.#map.clear()
  }
}
