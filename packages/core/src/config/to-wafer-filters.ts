import type { FilterOptions } from '../runtime/filter-options.js'
import type { ResolvedConfig } from './types.js'

/**
 * A resolved config's filters (declared and derived) as `createWafer({ filters })` takes them:
 * `limits` and `capabilities` are left out because the runtime does not enforce them yet.
 * Use with the config's chains: `createWafer({ filters: toWaferFilters(c), chains: c.chains })`.
 */
export function toWaferFilters (config: Pick<ResolvedConfig, 'filters'>): Record<string, FilterOptions> {
  const filters: Record<string, FilterOptions> = {}
  for (const [name, f] of Object.entries(config.filters)) {
    filters[name] = { module: f.module, config: f.config, failurePolicy: f.failurePolicy, ...(f.pool === undefined ? {} : { pool: f.pool }) }
  }
  return filters
}
