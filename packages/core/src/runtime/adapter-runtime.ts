import { loadConfig } from '../config/load-config.js'
import type { AdapterName } from '../config/options-schema.js'
import { configModules, toWaferFilters } from '../config/to-wafer-filters.js'
import type { GatewayConfig, ResolvedConfig } from '../config/types.js'
import { watchConfig, type ConfigWatcher } from '../config/watch-config.js'
import { waferError, type WaferError } from '../errors.js'
import type { WaferLogger } from '../logger.js'
import type { KvStore } from '../state/store.js'
import type { Generation } from './generation.js'
import type { WaferObserver } from './observer.js'
import type { ReloadReport } from './reload-report.js'
import { Wafer, type ReloadDefinition, type WaferOptions } from './wafer.js'

/** The options an adapter creates its runtime from, as its users pass them (validated first, by `resolveAdapterOptions`). */
export interface AdapterRuntimeOptions {
  /** A gateway config: a YAML/JSON file path, or the object. */
  config?: string | GatewayConfig
  filters?: WaferOptions['filters']
  chains?: WaferOptions['chains']
  store?: KvStore
  observer?: WaferObserver
  moduleCacheSize?: number
  /** A runtime the application created: used as it is, and not closed by the adapter. */
  wafer?: Wafer
}

/** What one adapter does its own way around the runtime both share. */
export interface AdapterRuntimeSettings {
  /** The package, as errors name it. */
  adapter: AdapterName
  /** The logger a runtime created here gets; undefined: the runtime's default. */
  logger: WaferLogger | undefined
  /** Why `reload()` without a config, and with none given at startup, fails: the adapter's words for its call. */
  reloadWithoutConfig: string
  /** Throws if the adapter cannot serve `config`; runs on every load, before anything else reads it. */
  accept?: (config: ResolvedConfig) => void
  /**
   * A loaded config as the runtime builds a generation from it; `running` is the config the
   * runtime started with (on reloads only). Default: `configDefinition`.
   */
  definition?: (config: ResolvedConfig, running?: ResolvedConfig) => ReloadDefinition
}

/**
 * A config's filters and chains as a generation is built from them, with its
 * `reload.drainTimeoutMs` and, as the generation's data, its `reload.debounceMs`: a reload that
 * changes either is applied (and the file watch follows the new debounce), not ignored.
 */
export function configDefinition (config: ResolvedConfig): ReloadDefinition & { chains: Record<string, string[]> } {
  return { filters: toWaferFilters(config), chains: { ...config.chains }, drainTimeoutMs: config.reload.drainTimeoutMs, data: { debounceMs: config.reload.debounceMs } }
}

/**
 * The runtime behind an adapter, created from the adapter's options (a config, or filters and
 * chains), with what both adapters do with it: reload the config, and watch its files.
 */
export class AdapterRuntime {
  readonly runtime: Wafer
  /** The runtime was created here: the adapter closes it. */
  readonly owned: boolean
  /** The config the runtime started with, if it was created from one. */
  readonly config: ResolvedConfig | undefined
  readonly #source: string | GatewayConfig | undefined
  readonly #settings: AdapterRuntimeSettings
  /** Modules the last attempted config named, so a module added by a failed reload is watched too. */
  #attempted: string[]

  private constructor (runtime: Wafer, owned: boolean, config: ResolvedConfig | undefined, source: string | GatewayConfig | undefined, settings: AdapterRuntimeSettings) {
    this.runtime = runtime
    this.owned = owned
    this.config = config
    this.#source = source
    this.#settings = settings
    this.#attempted = config === undefined ? [] : configModules(config)
  }

  /**
   * Uses the runtime given as `wafer`, at once (a promise only when something loads: the
   * Express middleware serves at once then), or creates one from `config` (its filters, chains
   * and drain timeout) or from `filters` and `chains`, with the store, observer, module cache
   * size and logger. Rejects with the coded error of whatever does not load.
   */
  static create (options: AdapterRuntimeOptions, settings: AdapterRuntimeSettings): AdapterRuntime | Promise<AdapterRuntime> {
    if (options.wafer !== undefined) return new AdapterRuntime(options.wafer, false, undefined, options.config, settings)
    return AdapterRuntime.#create(options, settings)
  }

  static async #create (options: AdapterRuntimeOptions, settings: AdapterRuntimeSettings): Promise<AdapterRuntime> {
    let config: ResolvedConfig | undefined
    let created: WaferOptions
    if (options.config !== undefined) {
      config = await load(options.config, settings)
      created = (settings.definition ?? configDefinition)(config)
    } else {
      if (options.filters === undefined) throw invalid(settings, 'pass "config", "filters" (filter name -> { module, config }) or a created runtime as "wafer"')
      created = { filters: options.filters }
      if (options.chains !== undefined) created.chains = options.chains
    }
    if (options.store !== undefined) created.store = options.store
    if (options.observer !== undefined) created.observer = options.observer
    if (options.moduleCacheSize !== undefined) created.moduleCacheSize = options.moduleCacheSize
    if (settings.logger !== undefined) created.logger = settings.logger
    return new AdapterRuntime(await Wafer.create(created), true, config, options.config, settings)
  }

  /**
   * Reloads the config the runtime started with (or `next`): loads it again and lets the
   * runtime build the next version off to the side. Never rejects; the report says what happened.
   */
  reload (next?: string | GatewayConfig): Promise<ReloadReport> {
    return this.runtime.reload(async () => {
      const source = next ?? this.#source
      if (source === undefined) throw invalid(this.#settings, this.#settings.reloadWithoutConfig)
      const loaded = await load(source, this.#settings)
      this.#attempted = configModules(loaded)
      return (this.#settings.definition ?? configDefinition)(loaded, this.config)
    })
  }

  /**
   * Watches the config file and every module of the serving and of the last attempted config,
   * and reloads after `reload.debounceMs` of quiet, as the serving version has it (its
   * definition's `data.debounceMs`; the startup config's when a definition carries none), so a
   * reload can change it. The caller awaits `ready` if it must, and closes the watcher.
   */
  watch (log: WaferLogger): ConfigWatcher {
    const config = this.config
    if (typeof this.#source !== 'string' || config === undefined) throw invalid(this.#settings, '"watch" needs "config" to be a file path')
    const { source, reload: { debounceMs } } = config
    const runtime = this.runtime
    return watchConfig(() => [source, ...new Set([...this.#attempted, ...[...runtime.generation.filters.values()].map((f) => f.source)])],
      () => this.reload(), { debounceMs: () => servingDebounce(runtime.generation, debounceMs), log })
  }
}

async function load (source: string | GatewayConfig, settings: AdapterRuntimeSettings): Promise<ResolvedConfig> {
  const config = await loadConfig(source)
  settings.accept?.(config)
  return config
}

function servingDebounce (generation: Generation, fallback: number): number {
  const debounceMs = (generation.data as { debounceMs?: unknown } | undefined)?.debounceMs
  return typeof debounceMs === 'number' ? debounceMs : fallback
}

function invalid (settings: AdapterRuntimeSettings, message: string): WaferError {
  return waferError('WAFER_ERR_OPTIONS_INVALID', [`${settings.adapter}: ${message}`])
}
