import { pointer, show, type ConfigProblem } from './config-error.js'
import { configDefaults as d } from './defaults.js'
import { checkJson, filterProblems, type Add } from './filter-checks.js'

type Obj = Record<string, unknown>

const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v)
const names = (o: Obj | undefined): string => (o === undefined ? [] : Object.keys(o)).join(', ') || '(none)'

/**
 * The checks a JSON Schema cannot express: references between sections, pool.min <= pool.max,
 * exactly one of upstream and respond, duplicate routes, JSON-only filter configs. Runs on
 * whatever parts of the value are well formed, so one pass reports everything; a place the
 * schema already complained about (`reported`) is not reported twice.
 */
export function configProblems (value: unknown, reported: ReadonlySet<string>): ConfigProblem[] {
  const out: ConfigProblem[] = []
  const add = (path: string, message: string, v: unknown): void => {
    if (!reported.has(path)) out.push({ path, message, value: v })
  }
  if (!isObj(value)) return out
  const filters = isObj(value.filters) ? value.filters : undefined
  const chains = isObj(value.chains) ? value.chains : undefined

  if (isObj(value.state) && value.state.memory !== undefined && value.state.redis !== undefined) {
    add('/state', 'must choose one store: "memory" or "redis", got both', value.state)
  }

  for (const [name, f] of Object.entries(filters ?? {})) filterProblems(pointer('/filters', name), f, add)

  const checkEntries = (base: string, entries: unknown): void => {
    if (!Array.isArray(entries)) return
    entries.forEach((entry, i) => {
      const at = pointer(base, i)
      const isLong = isObj(entry)
      const filter = isLong ? entry.filter : entry
      const path = isLong ? pointer(at, 'filter') : at
      if (typeof filter === 'string' && filters !== undefined && !Object.hasOwn(filters, filter)) {
        add(path, `filter ${JSON.stringify(filter)} is not declared (declared: ${names(filters)})`, filter)
      }
      if (isLong && 'config' in entry) checkJson(pointer(at, 'config'), entry.config, add)
    })
  }
  for (const [name, entries] of Object.entries(chains ?? {})) checkEntries(pointer('/chains', name), entries)

  const seen = new Map<string, number>()
  const routes = Array.isArray(value.routes) ? value.routes : []
  routes.forEach((route: unknown, i) => {
    if (!isObj(route)) return
    const base = pointer('/routes', i)
    if (typeof route.chain === 'string' && !(chains !== undefined && Object.hasOwn(chains, route.chain))) {
      add(pointer(base, 'chain'), `route ${i} uses chain ${JSON.stringify(route.chain)}, which is not declared (declared: ${names(chains)})`, route.chain)
    } else {
      checkEntries(pointer(base, 'chain'), route.chain)
    }
    checkTarget(base, route, add)
    const key = matchKey(route.match)
    if (key === undefined) return
    const first = seen.get(key)
    if (first === undefined) seen.set(key, i)
    else add(pointer(base, 'match'), `duplicates the match of route ${first} (same path, type, methods and host)`, route.match)
  })

  checkAdminPort(value, add)
  return out
}

function checkTarget (base: string, route: Obj, add: Add): void {
  const hasUpstream = route.upstream !== undefined
  const hasRespond = route.respond !== undefined
  if (hasUpstream === hasRespond) {
    add(base, `must have exactly one of "upstream" and "respond", got ${hasUpstream ? 'both' : 'neither'}`, route)
  }
  if (route.timeoutMs !== undefined && !hasUpstream) {
    add(pointer(base, 'timeoutMs'), `only applies to a route with "upstream", got ${show(route.timeoutMs)}`, route.timeoutMs)
  }
  if (typeof route.upstream === 'string' && /^https?:\/\//.test(route.upstream)) {
    const path = pointer(base, 'upstream')
    let url: URL | undefined
    try {
      url = new URL(route.upstream)
    } catch {
      add(path, `must be a valid http:// or https:// URL, got ${show(route.upstream)}`, route.upstream)
    }
    if (url !== undefined && (url.search !== '' || url.hash !== '' || route.upstream.includes('?'))) {
      add(path, `must be a URL without a query string or fragment (the request's own are forwarded), got ${show(route.upstream)}`, route.upstream)
    }
  }
  const headers = isObj(route.respond) && isObj(route.respond.headers) ? route.respond.headers : undefined
  const lower = new Map<string, string>()
  for (const name of Object.keys(headers ?? {})) {
    const first = lower.get(name.toLowerCase())
    if (first === undefined) lower.set(name.toLowerCase(), name)
    else add(pointer(pointer(pointer(base, 'respond'), 'headers'), name), `repeats header ${JSON.stringify(first)} (header names are case-insensitive)`, name)
  }
}

/** Routes with equal keys would take the same requests. */
function matchKey (match: unknown): string | undefined {
  if (!isObj(match) || typeof match.path !== 'string') return undefined
  const methods = Array.isArray(match.methods) ? [...new Set(match.methods.map(String))].sort() : ['*']
  const host = typeof match.host === 'string' ? match.host.toLowerCase() : ''
  const type = match.type ?? d.match.type
  // A prefix matches whole segments, so "/api/" and "/api" are the same prefix.
  const path = type === 'prefix' && match.path.length > 1 ? match.path.replace(/\/$/, '') : match.path
  return JSON.stringify([type, path, methods, host])
}

function checkAdminPort (value: Obj, add: Add): void {
  const server = isObj(value.server) ? value.server : {}
  const admin = isObj(value.admin) ? value.admin : {}
  if (admin.enabled === false) return
  const port = admin.port ?? d.admin.port
  const host = admin.host ?? d.admin.host
  if (port !== 0 && port === (server.port ?? d.server.port) && host === (server.host ?? d.server.host)) {
    add('/admin/port', `must differ from server.port when both listen on ${show(host)}, got ${show(port)}`, port)
  }
}
