import { loadConfig, toWaferFilters, Wafer, WaferError, type Chain, type GatewayConfig, type ResolvedConfig, type WaferObserver, type WaferOptions } from '@wafer/core'
import type { FastifyBaseLogger, FastifyPluginAsync, RouteOptions } from 'fastify'
import fp from 'fastify-plugin'
import { configRoutes, type UpstreamObserver } from './config-routes.js'
import { chainHooks, kExchange, type ChainHooks } from './hooks.js'

/** A chain: filter names in order, or the name of a chain declared in `chains`. */
export type ChainSpec = string | string[]

export interface WaferRouteOptions {
  /** Replaces the global chain for this route. */
  chain: ChainSpec
}

export interface WaferPluginOptions extends Omit<WaferOptions, 'logger' | 'filters' | 'observer'> {
  /**
   * A gateway config (docs/config.md): a YAML/JSON file path, or the object. Its filters and
   * chains are loaded, and its routes registered (proxied to their upstreams or answered
   * locally). Its `server` and `admin` sections are for `wafer serve` and are not used here.
   */
  config?: string | GatewayConfig
  /** Filters by name (ignored when `wafer` is given). */
  filters?: WaferOptions['filters']
  /** Receives filter calls and upstream outcomes, for metrics. */
  observer?: WaferObserver & UpstreamObserver
  /** The chain every route gets unless its route config says otherwise. Default: none. */
  chain?: ChainSpec
  /** An already created runtime to use instead of creating one from `filters`; the app does not close it. */
  wafer?: Wafer
  /** Bytes of a reply that response-body filters may buffer. Default 1 MiB. */
  responseBodyLimit?: number
}

declare module 'fastify' {
  interface FastifyContextConfig {
    /** This route's chain, or `false` for no filters at all. */
    wafer?: WaferRouteOptions | false
  }
  interface FastifyInstance {
    /** The Wafer runtime behind the plugin: its filters, chains and status. */
    wafer: Wafer
  }
}

const KNOWN = ['config', 'filters', 'chains', 'store', 'moduleCacheSize', 'chain', 'wafer', 'responseBodyLimit', 'observer']

function invalid (message: string): never {
  throw new WaferError('WAFER_ERR_OPTIONS_INVALID', [`@wafer/fastify: ${message}`])
}

const plugin: FastifyPluginAsync<WaferPluginOptions> = async (fastify, options) => {
  for (const key of Object.keys(options)) {
    if (!KNOWN.includes(key)) invalid(`unknown option "${key}"; known options: ${KNOWN.join(', ')}`)
  }
  const responseBodyLimit = options.responseBodyLimit ?? 1024 * 1024
  if (!Number.isSafeInteger(responseBodyLimit) || responseBodyLimit < 0) {
    invalid(`"responseBodyLimit" must be a non-negative integer, got ${JSON.stringify(options.responseBodyLimit)}`)
  }
  let config: ResolvedConfig | undefined
  if (options.config !== undefined) {
    if (options.filters !== undefined || options.chains !== undefined || options.wafer !== undefined) {
      invalid('"config" declares the filters and chains; pass either "config" or "filters"/"chains"/"wafer", not both')
    }
    config = await loadConfig(options.config)
  }
  let wafer = options.wafer
  const owned = wafer === undefined
  if (wafer === undefined) {
    const filters = config !== undefined ? runtimeFilters(config, fastify.log) : options.filters
    if (filters === undefined) invalid('pass "config", "filters" (filter name -> { module, config }) or a created runtime as "wafer"')
    const created: WaferOptions = { filters, logger: fastify.log }
    const chains = config?.chains ?? options.chains
    if (chains !== undefined) created.chains = chains
    if (options.observer !== undefined) created.observer = options.observer
    if (options.store !== undefined) created.store = options.store
    if (options.moduleCacheSize !== undefined) created.moduleCacheSize = options.moduleCacheSize
    wafer = await Wafer.create(created)
  }
  const runtime = wafer
  if (owned) fastify.addHook('onClose', async () => runtime.close())

  const resolve = (spec: ChainSpec, where: string): Chain => {
    if (typeof spec === 'string') return runtime.chain(spec)
    if (Array.isArray(spec)) return runtime.compose(spec)
    return invalid(`${where} must be a chain name or an array of filter names, got ${JSON.stringify(spec)}`)
  }
  const globalChain = options.chain === undefined ? undefined : resolve(options.chain, '"chain"')
  const hooksByChain = new Map<Chain, ChainHooks>()

  fastify.decorate('wafer', runtime)
  fastify.decorateRequest(kExchange, null)
  fastify.addHook('onRoute', (route: RouteOptions) => {
    const routeOptions = (route.config as { wafer?: WaferRouteOptions | false } | undefined)?.wafer
    if (routeOptions === false) return
    const chain = routeOptions === undefined ? globalChain : resolve(routeOptions.chain, `route ${String(route.method)} ${route.url}: "config.wafer.chain"`)
    if (chain === undefined || chain.filters.length === 0) return
    // Filters that need the body read at most what the route would accept.
    const bodyLimit = route.bodyLimit ?? fastify.initialConfig.bodyLimit ?? 1024 * 1024
    const key = chain
    let hooks = hooksByChain.get(key)
    if (hooks === undefined || bodyLimit !== fastify.initialConfig.bodyLimit) {
      hooks = chainHooks(chain, bodyLimit, responseBodyLimit)
      if (bodyLimit === fastify.initialConfig.bodyLimit) hooksByChain.set(key, hooks)
    }
    route.onRequest = prepend(hooks.onRequest, route.onRequest)
    if (hooks.preParsing !== undefined) route.preParsing = prepend(hooks.preParsing, route.preParsing)
    if (hooks.onSend !== undefined) route.onSend = append(hooks.onSend, route.onSend)
  })

  if (config !== undefined && config.routes.length > 0) {
    await fastify.register(configRoutes, { routes: config.routes, observer: options.observer })
  }
}

/** The config's filters as the runtime takes them; sandbox settings are validated but not enforced yet. */
function runtimeFilters (config: ResolvedConfig, log: FastifyBaseLogger): WaferOptions['filters'] {
  for (const [name, f] of Object.entries(config.filters)) {
    if (f.limits !== undefined || f.capabilities !== undefined) {
      log.warn({ filter: name }, `filter "${name}": "limits" and "capabilities" are validated but not enforced yet (sandboxing is planned)`)
    }
  }
  return toWaferFilters(config)
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
