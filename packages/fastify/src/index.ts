import { AdapterRuntime, checkChainSpec, resolveAdapterOptions, type ChainSpec, type GatewayConfig, type ReloadReport, type Wafer, type WaferLogger, type WaferObserver, type WaferOptions } from '@wafer/core'
import type { FastifyBaseLogger, FastifyPluginAsync, RouteOptions } from 'fastify'
import fp from 'fastify-plugin'
import { configRoutes, type UpstreamObserver } from './config-routes.js'
import { definitionOf, sameRouteSet } from './config-reload.js'
import { bodylessRoute, chainHooks, kExchange, type ChainHooks } from './hooks.js'

/** A chain: filter names in order, or the name of a chain declared in `chains`. */
export type { ChainSpec }

export interface WaferRouteOptions {
  /** Replaces the global chain for this route. */
  chain: ChainSpec
}

export interface WaferPluginOptions extends Omit<WaferOptions, 'logger' | 'filters' | 'observer' | 'data' | 'drainTimeoutMs'> {
  /**
   * A gateway config (docs/config.md): a YAML/JSON file path, or the object. Its filters and
   * chains are loaded, and its routes registered (proxied to their upstreams or answered
   * locally). Its `server` and `admin` sections are for `wafer serve` and are not used here.
   */
  config?: string | GatewayConfig
  /** Filters by name (ignored when `wafer` is given). */
  filters?: WaferOptions['filters']
  /** Receives filter calls, reloads and upstream outcomes, for metrics. */
  observer?: WaferObserver & UpstreamObserver
  /**
   * With `config` as a file path: watch it and every module it references, and reload on
   * change (debounced by the config's `reload.debounceMs`). Default false.
   */
  watch?: boolean
  /** The chain every route gets unless its route config says otherwise. Default: none. */
  chain?: ChainSpec
  /** An already created runtime to use instead of creating one from `filters`; the app does not close it. */
  wafer?: Wafer
  /** Bytes of a reply that response-body filters may buffer. Default 1 MiB. */
  responseBodyLimit?: number
  /** The runtime's logger (filter loads, reloads): a pino logger, or `false` for none. Default: the app's. */
  logger?: WaferLogger | false
}

declare module 'fastify' {
  interface FastifyContextConfig {
    /** This route's chain, or `false` for no filters at all. */
    wafer?: WaferRouteOptions | false
  }
  interface FastifyInstance {
    /** The Wafer runtime behind the plugin: its filters, chains, status and `reload()`. */
    wafer: Wafer
    /**
     * Reloads the gateway config the plugin was registered with (or `config`, if given):
     * builds the new version off to the side and swaps it in, or keeps the running one if
     * anything fails. Never rejects; the report says what happened.
     */
    waferReload: (config?: string | GatewayConfig) => Promise<ReloadReport>
  }
}

const plugin: FastifyPluginAsync<WaferPluginOptions> = async (fastify, options) => {
  // The schema the Express middleware and createWafer share (filters included): one answer for the same options.
  const resolved = resolveAdapterOptions('@wafer/fastify', options)
  const { responseBodyLimit } = resolved
  // Creating, reloading and watching are core's, as for Express; the route chains are this plugin's (definitionOf).
  const adapter = await AdapterRuntime.create(options, {
    adapter: '@wafer/fastify',
    logger: resolved.logger ?? fastify.log,
    reloadWithoutConfig: 'waferReload() needs a config: the plugin was registered without one',
    definition: definitionOf
  })
  const { runtime, config } = adapter
  if (adapter.owned) fastify.addHook('onClose', async () => runtime.close())
  if (config !== undefined) runtime.addCheck(sameRouteSet(config.routes))
  fastify.decorate('waferReload', (next?: string | GatewayConfig): Promise<ReloadReport> => adapter.reload(next))
  if (resolved.watch) {
    const watcher = adapter.watch(fastify.log)
    fastify.addHook('onClose', async () => watcher.close())
    await watcher.ready
  }

  const globalSpec = resolved.chain
  // Every chain a route uses must resolve now and after every reload.
  if (globalSpec !== undefined) runtime.requireChain(globalSpec)
  const hooksBySpec = new Map<string, ChainHooks>()

  fastify.decorate('wafer', runtime)
  fastify.decorateRequest(kExchange, null)
  fastify.addHook('onRoute', (route: RouteOptions) => {
    const routeOptions = (route.config as { wafer?: WaferRouteOptions | false } | undefined)?.wafer
    if (routeOptions === false) return
    const where = `route ${String(route.method)} ${route.url}: "config.wafer.chain"`
    const spec = routeOptions === undefined ? globalSpec : checkChainSpec('@wafer/fastify', (routeOptions as { chain?: unknown } | null)?.chain, where)
    if (spec === undefined) return
    runtime.requireChain(spec)
    // Filters that need the body read at most what the route would accept.
    const bodyLimit = route.bodyLimit ?? fastify.initialConfig.bodyLimit ?? 1024 * 1024
    const key = JSON.stringify([spec, bodyLimit])
    let hooks = hooksBySpec.get(key)
    if (hooks === undefined) {
      hooks = chainHooks(spec, runtime, bodyLimit, responseBodyLimit)
      hooksBySpec.set(key, hooks)
    }
    // Fastify reads no body for GET, HEAD and TRACE, and then skips preParsing hooks only if
    // there are none: such a route runs its whole chain in onRequest, with no body.
    if (bodylessRoute(route.method)) {
      route.onRequest = prepend(hooks.onRequestBodyless, route.onRequest)
    } else {
      route.onRequest = prepend(hooks.onRequest, route.onRequest)
      route.preParsing = prepend(hooks.preParsing, route.preParsing)
    }
    route.onSend = append(hooks.onSend, route.onSend)
  })

  if (config !== undefined && config.routes.length > 0) {
    await fastify.register(configRoutes, { routes: config.routes, observer: options.observer, wafer: runtime })
  }
}

/** Request filters run before the route's own hooks, so those see the filtered request. */
function prepend<T> (hook: T, existing: T | T[] | undefined): T[] {
  if (existing === undefined) return [hook]
  return [hook, ...(Array.isArray(existing) ? existing : [existing])]
}

/** Response filters run after the route's own onSend hooks, so they see the final reply. */
function append<T> (hook: T, existing: T | T[] | undefined): T[] {
  if (existing === undefined) return [hook]
  return [...(Array.isArray(existing) ? existing : [existing]), hook]
}

export const wafer = fp(plugin, { fastify: '5.x', name: '@wafer/fastify' })
export default wafer
export { kExchange }
export { urlsFor, type ConfigRoute, type UpstreamObserver } from './config-routes.js'
