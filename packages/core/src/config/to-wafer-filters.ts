import type { FilterOptions } from '../runtime/filter-options.js'
import type { ResolvedConfig } from './types.js'

/**
 * A resolved config's filters (declared and derived) as `createWafer({ filters })` takes them:
 * Everything the runtime enforces is passed on.
 * Use with the config's chains: `createWafer({ filters: toWaferFilters(c), chains: c.chains })`.
 */
export function toWaferFilters (config: Pick<ResolvedConfig, 'filters'>): Record<string, FilterOptions> {
  const filters: Record<string, FilterOptions> = {}
  for (const [name, f] of Object.entries(config.filters)) {
    filters[name] = {
      module: f.module,
      config: f.config,
      failurePolicy: f.failurePolicy,
      ...(f.pool === undefined ? {} : { pool: f.pool }),
      ...(f.limits === undefined ? {} : { limits: { ...f.limits } }),
      ...(f.breaker === undefined ? {} : { breaker: { ...f.breaker } }),
      ...(f.capabilities === undefined ? {} : { capabilities: [...f.capabilities] }),
      ...(f.proxyWasm === undefined ? {} : { proxyWasm: { ...f.proxyWasm } })
    }
  }
  return filters
}

/** The module files a config names: what a watcher follows. */
export function configModules (config: Pick<ResolvedConfig, 'filters'>): string[] {
  return [...new Set(Object.values(config.filters).map((f) => f.module))]
}
