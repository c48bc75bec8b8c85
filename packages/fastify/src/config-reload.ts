import { configDefinition, WaferError, type Generation, type ReloadDefinition, type ResolvedConfig, type ResolvedRoute } from '@wafer/core'

/** What the plugin keeps with each generation: the config's routes as that version has them. */
export interface ConfigData {
  /** The config file (or `<object>`) this version came from. */
  source: string
  routes: readonly ResolvedRoute[]
  /** `reload.debounceMs` of this version: core's file watch reads it at each change (AdapterRuntime#watch). */
  debounceMs: number
}

/** The named chain a config route runs, per generation: a reload may move a route to another chain. */
export function routeChainName (index: number): string {
  return `route#${index}`
}

/**
 * A resolved config as the runtime builds a generation from it: core's (its filters, chains and
 * drain timeout) plus a named chain per route and the routes as data. With `running` (the config
 * the server started with), the settings read at startup only that `config` changes are
 * listed as `restartRequired`, so the reload says so instead of ignoring them silently.
 */
export function definitionOf (config: ResolvedConfig, running?: ResolvedConfig): ReloadDefinition {
  const definition = configDefinition(config)
  for (const r of config.routes) definition.chains[routeChainName(r.index)] = [...r.chain]
  const data: ConfigData = { source: config.source, routes: config.routes, debounceMs: config.reload.debounceMs }
  definition.data = data
  if (running !== undefined) {
    const restartRequired = startupChanges(running, config)
    if (restartRequired.length > 0) definition.restartRequired = restartRequired
  }
  return definition
}

/**
 * Config keys read once at startup (the listeners, the store, whether to watch) whose value
 * differs between the two configs. Values are not reported: `admin.token` is a secret.
 */
export function startupChanges (running: ResolvedConfig, next: ResolvedConfig): string[] {
  const changed: string[] = []
  const compare = (section: string, a: Record<string, unknown>, b: Record<string, unknown>): void => {
    for (const key of new Set([...Object.keys(a), ...Object.keys(b)])) {
      if (JSON.stringify(a[key]) !== JSON.stringify(b[key])) changed.push(`${section}.${key}`)
    }
  }
  compare('server', running.server, next.server)
  compare('admin', running.admin, next.admin)
  compare('state', running.state, next.state)
  if (running.reload.watch !== next.reload.watch) changed.push('reload.watch')
  return changed
}

/**
 * Fastify cannot add or remove routes after it started, so a reload may change what a route
 * does (its chain, upstream, timeout or local response) but not which routes exist.
 */
export function sameRouteSet (registered: readonly ResolvedRoute[]): (g: Generation) => void {
  const key = (routes: readonly ResolvedRoute[]): string => JSON.stringify(routes.map((r) => r.match))
  const expected = key(registered)
  return (g) => {
    const data = g.data as ConfigData | undefined
    const routes = data?.routes ?? []
    if (key(routes) !== expected) {
      const file = data?.source ?? '<unknown>'
      const err = new WaferError('WAFER_ERR_RELOAD_ROUTES', [file, `${registered.length} routes before, ${routes.length} after; compare each route's "match"`])
      throw Object.assign(err, { file })
    }
  }
}
