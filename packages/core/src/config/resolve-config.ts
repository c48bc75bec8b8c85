import { isAbsolute, resolve } from 'node:path'
import { invalidConfig, pointer } from './config-error.js'
import { configProblems } from './check-config.js'
import { configDefaults as d } from './defaults.js'
import { derivedName } from './derived-name.js'
import { schemaProblems } from './validate-schema.js'
import type { ChainEntryConfig, FilterConfig, GatewayConfig, ResolvedConfig, ResolvedFilter, ResolvedRoute, RouteConfig } from './types.js'

/**
 * Validates a parsed config (schema, then the cross-section checks) and resolves it: defaults
 * filled, module paths made absolute against `baseDir`, chains flattened, per-use config
 * overrides turned into derived filters. Throws one WAFER_ERR_CONFIG_INVALID listing every
 * problem, naming `source`. The result is deeply frozen and shares nothing with `value`.
 */
export function resolveConfig (value: unknown, source: string, baseDir: string): ResolvedConfig {
  const problems = schemaProblems(value)
  problems.push(...configProblems(value, new Set(problems.map((p) => p.path))))
  if (problems.length > 0) throw invalidConfig(source, problems)
  const origins = new Map<string, FilterOrigin>()
  const config = deepFreeze(build(structuredClone(value) as GatewayConfig, source, resolve(baseDir), origins))
  filterOrigins.set(config, origins)
  return config
}

/** Where a resolved filter was written: its declaration, or the chain entry that derived it. */
export interface FilterOrigin {
  /** JSON pointer: `/filters/<name>`, or `/chains/<chain>/<i>` / `/routes/<r>/chain/<i>` for a derived filter. */
  path: string
  /** The declared filter it is (or is derived from). */
  base: string
}

// Kept beside the config rather than in it: the resolved shape is public and stays as documented.
const filterOrigins = new WeakMap<ResolvedConfig, ReadonlyMap<string, FilterOrigin>>()

/** Where filter `name` of a config from resolveConfig() was written (`/filters/<name>` when unknown). */
export function filterOrigin (config: ResolvedConfig, name: string): FilterOrigin {
  return filterOrigins.get(config)?.get(name) ?? { path: pointer('/filters', name), base: name }
}

type Flatten = (entries: readonly ChainEntryConfig[], scope: string, at: string) => string[]

function build (config: GatewayConfig, source: string, baseDir: string, origins: Map<string, FilterOrigin>): ResolvedConfig {
  const server = config.server ?? {}
  const admin = config.admin ?? {}
  const filters: Record<string, ResolvedFilter> = {}
  for (const [name, f] of Object.entries(config.filters)) {
    filters[name] = filterOf(f, baseDir)
    origins.set(name, { path: pointer('/filters', name), base: name })
  }
  const taken = new Set(Object.keys(filters))
  /** Flattens entries, creating a derived filter for each enabled entry with its own config. */
  const flatten: Flatten = (entries, scope, at) => {
    const out: string[] = []
    entries.forEach((entry, position) => {
      if (typeof entry === 'string') return out.push(entry)
      if (entry.enabled === false) return
      if (entry.config === undefined) return out.push(entry.filter)
      const name = derivedName(entry.filter, scope, position, taken)
      taken.add(name)
      filters[name] = { ...(filters[entry.filter] as ResolvedFilter), config: entry.config }
      origins.set(name, { path: pointer(at, position), base: entry.filter })
      out.push(name)
    })
    return out
  }
  const chains: Record<string, string[]> = {}
  for (const [name, entries] of Object.entries(config.chains ?? {})) chains[name] = flatten(entries, name, pointer('/chains', name))
  const routes = (config.routes ?? []).map((r, index) => routeOf(r, index, chains, flatten))
  return {
    source,
    version: 1,
    server: {
      host: server.host ?? d.server.host,
      port: server.port ?? d.server.port,
      bodyLimit: server.bodyLimit ?? d.server.bodyLimit,
      headerLimit: server.headerLimit ?? d.server.headerLimit,
      logLevel: server.logger?.level ?? d.server.logLevel,
      shutdownTimeoutMs: server.shutdownTimeoutMs ?? d.server.shutdownTimeoutMs
    },
    admin: {
      enabled: admin.enabled ?? d.admin.enabled,
      host: admin.host ?? d.admin.host,
      port: admin.port ?? d.admin.port,
      ...(admin.token === undefined ? {} : { token: admin.token })
    },
    state: config.state?.redis !== undefined
      ? { kind: 'redis', url: config.state.redis.url, keyPrefix: config.state.redis.keyPrefix ?? d.state.keyPrefix, timeoutMs: config.state.redis.timeoutMs ?? d.state.timeoutMs, sharedDataTimeoutMs: config.state.redis.sharedDataTimeoutMs ?? d.state.sharedDataTimeoutMs }
      : { kind: 'memory', maxKeys: config.state?.memory?.maxKeys ?? d.state.maxKeys },
    reload: {
      watch: config.reload?.watch ?? d.reload.watch,
      debounceMs: config.reload?.debounceMs ?? d.reload.debounceMs,
      drainTimeoutMs: config.reload?.drainTimeoutMs ?? d.reload.drainTimeoutMs
    },
    filters,
    chains,
    routes
  }
}

function filterOf (f: FilterConfig, baseDir: string): ResolvedFilter {
  return {
    module: isAbsolute(f.module) ? f.module : resolve(baseDir, f.module),
    config: f.config === undefined ? {} : f.config,
    ...(f.pool === undefined ? {} : { pool: f.pool }),
    failurePolicy: f.failurePolicy ?? d.filter.failurePolicy,
    ...(f.limits === undefined ? {} : { limits: f.limits }),
    ...(f.breaker === undefined ? {} : { breaker: f.breaker }),
    ...(f.capabilities === undefined ? {} : { capabilities: f.capabilities }),
    ...(f.proxyWasm === undefined ? {} : { proxyWasm: f.proxyWasm })
  }
}

function routeOf (r: RouteConfig, index: number, chains: Record<string, string[]>, flatten: Flatten): ResolvedRoute {
  const named = typeof r.chain === 'string'
  const chain = r.chain === undefined ? [] : typeof r.chain === 'string' ? [...(chains[r.chain] as string[])] : flatten(r.chain, `route${index}`, pointer(pointer('/routes', index), 'chain'))
  const route: ResolvedRoute = {
    index,
    match: {
      path: r.match.path,
      type: r.match.type ?? d.match.type,
      methods: r.match.methods,
      host: r.match.host?.toLowerCase()
    },
    chain,
    chainName: named ? r.chain as string : undefined
  }
  if (r.upstream !== undefined) return { ...route, upstream: { url: r.upstream, timeoutMs: r.timeoutMs ?? d.upstream.timeoutMs } }
  const respond = r.respond ?? {}
  const headers = Object.fromEntries(Object.entries(respond.headers ?? {}).map(([k, v]) => [k.toLowerCase(), v]))
  return { ...route, respond: { status: respond.status ?? d.respond.status, headers, body: respond.body ?? d.respond.body } }
}

function deepFreeze<T> (value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value)
    for (const v of Object.values(value)) deepFreeze(v)
  }
  return value
}
