import { toWaferFilters, WaferError, type Generation, type ResolvedConfig, type ResolvedRoute, type WaferDefinition, type WaferLogger } from '@wafer/core'
import { watch, type FSWatcher } from 'chokidar'

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

export interface ConfigWatcher {
  /** Resolves once the initial scan is done: changes before it could be missed. */
  ready: Promise<void>
  close (): Promise<void>
}

/**
 * Watches a config file and every module it references, and reloads after `debounceMs` of quiet
 * (editors and build tools write several times). Changes during a reload queue one more
 * reload. After each reload the watched modules follow the config.
 */
export function watchConfig (file: string, modules: () => string[], reload: () => Promise<unknown>,
  options: { debounceMs: number, log: WaferLogger }): ConfigWatcher {
  const watched = new Set([file, ...modules()])
  const watcher: FSWatcher = watch([...watched], { ignoreInitial: true, atomic: true })
  let timer: NodeJS.Timeout | undefined
  let running: Promise<void> | undefined
  let again = false

  const run = (): void => {
    timer = undefined
    if (running !== undefined) {
      again = true
      return
    }
    running = (async () => {
      try {
        await reload()
        const next = new Set([file, ...modules()])
        for (const p of next) if (!watched.has(p)) watcher.add(p)
        for (const p of watched) if (!next.has(p)) watcher.unwatch(p)
        watched.clear()
        for (const p of next) watched.add(p)
      } catch (err) {
        options.log.error({ err }, 'reload after a file change failed')
      } finally {
        running = undefined
        if (again) {
          again = false
          run()
        }
      }
    })()
  }
  watcher.on('all', (event, path) => {
    options.log.debug({ event, path }, `config watch: ${event} ${path}`)
    if (timer !== undefined) clearTimeout(timer)
    timer = setTimeout(run, options.debounceMs)
  })
  watcher.on('error', (err) => { options.log.warn({ err }, 'config watch error') })
  const ready = new Promise<void>((resolve) => { watcher.once('ready', () => resolve()) })
  return {
    ready,
    async close () {
      if (timer !== undefined) clearTimeout(timer)
      await watcher.close()
      await running
    }
  }
}
