import { ProxyMetrics } from '../abi/proxy-wasm/metrics.js'
import { MemorySharedData, providesSharedData, type SharedData } from '../state/shared-data.js'
import type { KvStore } from '../state/store.js'
import type { ModuleInfo } from '../wasm/binary.js'

const SHARED_DATA_CALLS = new Set(['proxy_get_shared_data', 'proxy_set_shared_data'])

/**
 * What a Wafer runtime keeps for its Proxy-Wasm filters across reloads: the metrics they define
 * and the shared-data table. The table is the store's own when it brings one (`@wafer/redis-store`:
 * shared by every process on that Redis), an in-process one otherwise; either is opened on the
 * first call, so a runtime without Proxy-Wasm filters never opens it.
 */
export class ProxyState {
  readonly metrics = new ProxyMetrics()
  readonly #store: KvStore
  #shared: SharedData | undefined

  constructor (store: KvStore) {
    this.#store = store
  }

  /** The shared-data table, opened now if it is not yet. */
  readonly sharedData = (): SharedData => {
    this.#shared ??= providesSharedData(this.#store) ? this.#store.sharedData() : new MemorySharedData()
    return this.#shared
  }

  /**
   * Opens the table when a module being loaded imports the shared-data calls, so that a remote
   * one has connected (see `settle`) before the module's first request.
   */
  prepare (info: ModuleInfo): void {
    if (this.#shared === undefined && info.imports.some((i) => i.module === 'env' && SHARED_DATA_CALLS.has(i.name))) this.sharedData()
  }

  /** Waits (bounded by the table) until an opened table can answer; nothing when none is open. */
  async settle (): Promise<void> {
    await this.#shared?.ready?.()
  }

  /** Closes an in-process table; a store's own is closed with the store. */
  close (): void {
    if (this.#shared instanceof MemorySharedData) this.#shared.close()
  }
}
