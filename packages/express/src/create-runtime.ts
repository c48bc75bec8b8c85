import { Wafer, type ResolvedConfig, type WaferOptions } from '@wafer/core'
import { loadDefinition } from './config-source.js'
import type { ResolvedOptions, WaferExpressOptions } from './options.js'

/**
 * Creates the runtime the middleware owns, from `config` (its filters and chains, and its
 * drain timeout) or from `filters` and `chains`, with the shared settings.
 */
export async function createRuntime (options: WaferExpressOptions, resolved: ResolvedOptions): Promise<{ runtime: Wafer, config: ResolvedConfig | undefined }> {
  let definition: WaferOptions
  let config: ResolvedConfig | undefined
  if (options.config !== undefined) {
    const loaded = await loadDefinition(options.config)
    config = loaded.config
    definition = { ...loaded.definition, drainTimeoutMs: config.reload.drainTimeoutMs }
  } else {
    definition = { filters: options.filters as WaferOptions['filters'] }
    if (options.chains !== undefined) definition.chains = options.chains
  }
  if (options.store !== undefined) definition.store = options.store
  if (options.observer !== undefined) definition.observer = options.observer
  if (options.moduleCacheSize !== undefined) definition.moduleCacheSize = options.moduleCacheSize
  if (resolved.logger !== undefined) definition.logger = resolved.logger
  return { runtime: await Wafer.create(definition), config }
}
