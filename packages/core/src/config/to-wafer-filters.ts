import type { WaferLogger } from '../logger.js'
import type { FilterOptions } from '../runtime/filter-options.js'
import type { ResolvedConfig } from './types.js'

/**
 * A resolved config's filters (declared and derived) as `createWafer({ filters })` takes them:
 * `capabilities` is left out because the runtime does not enforce it yet.
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
      ...(f.breaker === undefined ? {} : { breaker: { ...f.breaker } })
    }
  }
  return filters
}

/** The module files a config names: what a watcher follows. */
export function configModules (config: Pick<ResolvedConfig, 'filters'>): string[] {
  return [...new Set(Object.values(config.filters).map((f) => f.module))]
}

/** Capability grants are accepted so configs can carry them, but nothing enforces them yet: say so. */
export function warnUnenforced (config: Pick<ResolvedConfig, 'filters'>, log: WaferLogger): void {
  for (const [name, f] of Object.entries(config.filters)) {
    if (f.capabilities !== undefined) {
      log.warn({ filter: name }, `filter "${name}": "capabilities" are validated but not enforced yet; every import the ABI offers is available`)
    }
  }
}
