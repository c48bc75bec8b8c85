import { toWaferFilters, WaferError, type Generation, type ResolvedConfig, type ResolvedRoute, type WaferDefinition } from '@wafer/core'

/** What the plugin keeps with each generation: the config's routes as that version has them. */
export interface ConfigData {
  routes: readonly ResolvedRoute[]
}

/** The named chain a config route runs, per generation: a reload may move a route to another chain. */
export function routeChainName (index: number): string {
  return `route#${index}`
}

/** A resolved config as the runtime builds a generation from it. */
export function definitionOf (config: ResolvedConfig): WaferDefinition {
  const chains: Record<string, string[]> = { ...config.chains }
  for (const r of config.routes) chains[routeChainName(r.index)] = [...r.chain]
  const data: ConfigData = { routes: config.routes }
  return { filters: toWaferFilters(config), chains, data }
}

/**
 * Fastify cannot add or remove routes after it started, so a reload may change what a route
 * does (its chain, upstream, timeout or local response) but not which routes exist.
 */
export function sameRouteSet (registered: readonly ResolvedRoute[]): (g: Generation) => void {
  const key = (routes: readonly ResolvedRoute[]): string => JSON.stringify(routes.map((r) => r.match))
  const expected = key(registered)
  return (g) => {
    const routes = (g.data as ConfigData | undefined)?.routes ?? []
    if (key(routes) !== expected) {
      throw new WaferError('WAFER_ERR_RELOAD_ROUTES', [`${registered.length} routes before, ${routes.length} after; compare each route's "match"`])
    }
  }
}
