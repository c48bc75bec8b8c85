import { isUtf8 } from 'node:buffer'
import { isToken } from '../../http/field-syntax.js'
import { Field, HeaderMap, INVALID, NOT_FOUND } from '../../http/request-context.js'
import type { Glue } from './glue.js'
import { contextMap, readHeader, readPairs, removeHeader, writeHeader, writePairs } from './header-maps.js'
import { parsePairs, serializePairs } from './pairs.js'
import { readProperty } from './properties.js'
import { asyncImports, calloutPairs, calloutValue } from './async-calls.js'
import { sharedDataImports } from './shared-data.js'
import { metricImports } from './proxy-metrics.js'
import { closeStreamImports } from './close-stream.js'
import { BufferType, MapType, PROXY_CALLS, Status, StreamType } from './spec.js'
import { nowNanoseconds } from './wasi.js'

type Fn = (...args: never[]) => number

const NO_SUCH_MAP = -1
const NO_MAP = -2
/** The status for a map mapOf() did not find. */
const noMap = (m: number): number => m === NO_SUCH_MAP ? Status.BadArgument : Status.NotFound
const isMap = (m: number): m is HeaderMap => m >= 0

/** Host calls the guest's allocator may make while the host waits for it (as in the cpp-host). */
const ALLOWED_IN_ALLOCATOR = new Set(['proxy_log', 'proxy_get_log_level', 'proxy_get_current_time_nanoseconds'])

/**
 * The `env` imports of a Proxy-Wasm module. Each checks its pointers, calls the request context
 * (header-maps.ts over `FilterCall`) and returns a `proxy_status_t`; a fault (a bad pointer, a
 * refused write) is also recorded on the glue and raised when the callback returns. None throws.
 * Host calls Wafer does not implement answer the status spec.ts gives them.
 */
export function proxyImports (g: Glue): WebAssembly.ModuleImports {
  const { mem, call } = g
  const inBounds = (where: string, ptr: number, len: number): boolean => {
    if (mem.inBounds(ptr, len)) return true
    g.badPointer(where, ptr, len)
    return false
  }
  const stream = (): boolean => g.stage === 'request' || g.stage === 'response' || g.stage === 'log'
  const writable = (): boolean => g.stage === 'request' || g.stage === 'response'
  /** A header name: pseudo-headers as they are, others lower-cased; undefined when it is not a token. */
  const headerName = (ptr: number, len: number): string | undefined => {
    if (len > 0 && mem.view()[ptr >>> 0] === 58) return mem.latin1(ptr, len).toLowerCase()
    return mem.headerName(ptr, len)
  }
  /** A request-context outcome of a write as a status; a refusal is a fault. */
  const written = (where: string, result: number): number => {
    if (result === 0) return Status.Ok
    if (result === INVALID) return g.refuse(where, call.problem)
    return result === NOT_FOUND ? Status.NotFound : Status.BadArgument
  }
  /** The request context's map, or NO_SUCH_MAP (an id the spec does not define), or NO_MAP (none here). */
  const mapOf = (map: number): HeaderMap | typeof NO_SUCH_MAP | typeof NO_MAP => {
    if (map < 0 || map > MapType.Max) return NO_SUCH_MAP
    const m = contextMap(map)
    return m === undefined || !stream() ? NO_MAP : m
  }
  const bodyField = (type: number): Field | undefined =>
    type === BufferType.RequestBody ? Field.RequestBody : type === BufferType.ResponseBody ? Field.ResponseBody : undefined
  /** The bytes of a buffer in this callback, a status when there is none. */
  const buffer = (type: number): Buffer | number => {
    if (type < 0 || type > BufferType.Max) return Status.BadArgument
    if (type === BufferType.PluginConfiguration || type === BufferType.VmConfiguration) {
      const wanted = type === BufferType.PluginConfiguration ? 'configure' : 'vm_start'
      return g.stage === wanted && g.configuration !== undefined ? g.configuration : Status.NotFound
    }
    if (type === BufferType.HttpCallResponseBody) return g.callout?.body ?? Status.NotFound
    const field = bodyField(type)
    if (field === undefined || call.ex === undefined) return Status.NotFound
    const body = call.field(field)
    return typeof body === 'number' ? Status.NotFound : typeof body === 'string' ? Buffer.from(body, 'latin1') : body
  }

  const impl: Record<string, Fn> = {
    ...asyncImports(g),
    ...sharedDataImports(g),
    ...metricImports(g),
    ...closeStreamImports(g),
    proxy_log: (level: number, ptr: number, len: number): number => {
      if (level < 0 || level > 5) return Status.BadArgument
      if (!inBounds('proxy_log', ptr, len)) return Status.InvalidMemoryAccess
      if (g.tooLarge('proxy_log', len)) return Status.BadArgument
      g.log(level, mem.utf8(ptr, len))
      return Status.Ok
    },
    proxy_get_log_level: (ptr: number): number => g.put('proxy_get_log_level', ptr, logLevel(g)) ? Status.Ok : Status.InvalidMemoryAccess,
    proxy_get_current_time_nanoseconds: (ptr: number): number =>
      g.put('proxy_get_current_time_nanoseconds', ptr, nowNanoseconds(), true) ? Status.Ok : Status.InvalidMemoryAccess,
    proxy_set_effective_context: (id: number): number =>
      id === g.rootId || (id !== 0 && id === g.contextId) ? g.setEffectiveContext(id) : Status.BadArgument,
    // Only a root context's proxy_on_done waits for it (as in the cpp-host); a request's never does.
    proxy_done: (): number => g.proxyDone(),
    proxy_get_header_map_value: (map: number, kp: number, kl: number, pp: number, sp: number): number => {
      const m = mapOf(map)
      if (!inBounds('proxy_get_header_map_value', kp, kl)) return Status.InvalidMemoryAccess
      if (!inBounds('proxy_get_header_map_value', pp, 4) || !inBounds('proxy_get_header_map_value', sp, 4)) return Status.InvalidMemoryAccess
      if (map === MapType.HttpCallResponseHeaders && g.callout !== undefined) {
        const value = calloutValue(g.callout, mem.latin1(kp, kl).toLowerCase())
        return value === undefined ? Status.NotFound : g.give('proxy_get_header_map_value', Buffer.from(value, 'latin1'), pp, sp)
      }
      if (!isMap(m)) return noMap(m)
      const name = headerName(kp, kl)
      const value = name === undefined ? NOT_FOUND : readHeader(call, m, name)
      if (typeof value === 'number') return Status.NotFound
      return g.give('proxy_get_header_map_value', Buffer.from(value, 'latin1'), pp, sp)
    },
    proxy_get_header_map_pairs: (map: number, pp: number, sp: number): number => {
      const m = mapOf(map)
      if (!inBounds('proxy_get_header_map_pairs', pp, 4) || !inBounds('proxy_get_header_map_pairs', sp, 4)) return Status.InvalidMemoryAccess
      if (map === MapType.HttpCallResponseHeaders && g.callout !== undefined) return g.give('proxy_get_header_map_pairs', calloutPairs(g.callout), pp, sp)
      // Maps Wafer has none of (trailers) read as empty: SDKs treat NOT_FOUND here as a bug.
      if (m === NO_MAP && stream()) return g.give('proxy_get_header_map_pairs', Buffer.alloc(0), pp, sp)
      if (!isMap(m)) return noMap(m)
      const pairs = readPairs(call, m)
      if (typeof pairs === 'number') return Status.NotFound
      return g.give('proxy_get_header_map_pairs', serializePairs(pairs), pp, sp)
    },
    proxy_get_header_map_size: (map: number, sp: number): number => {
      const m = mapOf(map)
      if (!inBounds('proxy_get_header_map_size', sp, 4)) return Status.InvalidMemoryAccess
      if (map === MapType.HttpCallResponseHeaders && g.callout !== undefined) return g.put('proxy_get_header_map_size', sp, calloutPairs(g.callout).length) ? Status.Ok : Status.InvalidMemoryAccess
      if (m === NO_MAP && stream()) return g.put('proxy_get_header_map_size', sp, 0) ? Status.Ok : Status.InvalidMemoryAccess
      if (!isMap(m)) return noMap(m)
      const pairs = readPairs(call, m)
      if (typeof pairs === 'number') return Status.NotFound
      return g.put('proxy_get_header_map_size', sp, serializePairs(pairs).length) ? Status.Ok : Status.InvalidMemoryAccess
    },
    proxy_add_header_map_value: (map: number, kp: number, kl: number, vp: number, vl: number): number => setValue('proxy_add_header_map_value', map, kp, kl, vp, vl, true),
    proxy_replace_header_map_value: (map: number, kp: number, kl: number, vp: number, vl: number): number => setValue('proxy_replace_header_map_value', map, kp, kl, vp, vl, false),
    proxy_remove_header_map_value: (map: number, kp: number, kl: number): number => {
      const where = 'proxy_remove_header_map_value'
      const m = mapOf(map)
      if (!inBounds(where, kp, kl)) return Status.InvalidMemoryAccess
      if (!isMap(m)) return noMap(m)
      if (!writable()) return Status.BadArgument
      const name = headerName(kp, kl)
      // A name that is no token names no header: removing it removes nothing.
      return name === undefined ? Status.Ok : written(where, removeHeader(call, m, name))
    },
    proxy_set_header_map_pairs: (map: number, ptr: number, len: number): number => {
      const where = 'proxy_set_header_map_pairs'
      const m = mapOf(map)
      if (!inBounds(where, ptr, len)) return Status.InvalidMemoryAccess
      if (!isMap(m)) return noMap(m)
      if (!writable()) return Status.BadArgument
      if (g.tooLarge(where, len)) return Status.BadArgument
      const pairs = parsePairs(mem.copy(ptr, len))
      if (typeof pairs === 'string') return g.refuse(where, `malformed header map: ${pairs}`)
      const named: Array<readonly [string, string]> = []
      for (const [n, v] of pairs) {
        const name = n.toLowerCase()
        if (name.charCodeAt(0) !== 58 && !isToken(name)) return g.refuse(where, `header name ${JSON.stringify(n)} is not an HTTP token`)
        named.push([name, v])
      }
      return written(where, writePairs(call, m, named))
    },
    proxy_get_buffer_bytes: (type: number, start: number, len: number, pp: number, sp: number): number => {
      const where = 'proxy_get_buffer_bytes'
      if (!inBounds(where, pp, 4) || !inBounds(where, sp, 4)) return Status.InvalidMemoryAccess
      const bytes = buffer(type)
      if (typeof bytes === 'number') return bytes
      start >>>= 0
      if (start > bytes.length) return Status.BadArgument
      const end = Math.min(bytes.length, start + (len >>> 0))
      return g.give(where, bytes.subarray(start, end), pp, sp)
    },
    proxy_get_buffer_status: (type: number, lp: number, fp: number): number => {
      const where = 'proxy_get_buffer_status'
      if (!inBounds(where, lp, 4) || !inBounds(where, fp, 4)) return Status.InvalidMemoryAccess
      const bytes = buffer(type)
      if (typeof bytes === 'number') return bytes
      g.put(where, lp, bytes.length)
      g.put(where, fp, 0)
      return Status.Ok
    },
    proxy_set_buffer_bytes: (type: number, start: number, size: number, vp: number, vl: number): number => {
      const where = 'proxy_set_buffer_bytes'
      if (!inBounds(where, vp, vl)) return Status.InvalidMemoryAccess
      const bytes = buffer(type)
      if (typeof bytes === 'number') return bytes
      const field = bodyField(type)
      if (field === undefined || !writable()) return Status.NotFound
      const from = Math.min(start >>> 0, bytes.length)
      const to = Math.min(bytes.length, from + (size >>> 0))
      const next = Buffer.concat([bytes.subarray(0, from), mem.copy(vp, vl), bytes.subarray(to)])
      if (g.tooLarge(where, next.length)) return Status.BadArgument
      return written(where, call.setBody(field, next))
    },
    proxy_send_local_response: (status: number, dp: number, dl: number, bp: number, bl: number, hp: number, hl: number): number => {
      const where = 'proxy_send_local_response'
      if (!inBounds(where, dp, dl) || !inBounds(where, bp, bl) || !inBounds(where, hp, hl)) return Status.InvalidMemoryAccess
      if (!writable()) return Status.BadArgument
      if (!(status >= 200 && status <= 599)) return g.refuse(where, `a status must be 200..599, got ${status}`)
      if (g.tooLarge(where, bl) || g.tooLarge(where, hl)) return Status.BadArgument
      const body = mem.copy(bp, bl)
      if (!isUtf8(body)) return g.refuse(where, 'the body is not valid UTF-8')
      const pairs = parsePairs(mem.copy(hp, hl))
      if (typeof pairs === 'string') return g.refuse(where, `malformed header map: ${pairs}`)
      for (const [n, v] of pairs) {
        const name = n.toLowerCase()
        if (!isToken(name)) return g.refuse(where, `header name ${JSON.stringify(n)} is not an HTTP token`)
        const r = call.setHeader(HeaderMap.Local, name, v, true)
        if (r !== 0) return written(where, r)
      }
      call.respond(status, body.toString('utf8'))
      return Status.Ok
    },
    proxy_continue_stream: (type: number): number => {
      if (type < 0 || type > StreamType.Max) return Status.BadArgument
      g.continueStream(type)
      return Status.Ok
    },
    proxy_continue_request: (): number => { g.continueStream(StreamType.Request); return Status.Ok },
    proxy_continue_response: (): number => { g.continueStream(StreamType.Response); return Status.Ok },
    // Wafer matches the route once, before the filters run: there is no cache to clear.
    proxy_clear_route_cache: (): number => Status.Ok,
    proxy_get_configuration: (pp: number, sp: number): number => {
      const where = 'proxy_get_configuration'
      if (!inBounds(where, pp, 4) || !inBounds(where, sp, 4)) return Status.InvalidMemoryAccess
      return g.configuration === undefined ? Status.NotFound : g.give(where, g.configuration, pp, sp)
    },
    proxy_get_property: (kp: number, kl: number, pp: number, sp: number): number => {
      const where = 'proxy_get_property'
      if (!inBounds(where, kp, kl) || !inBounds(where, pp, 4) || !inBounds(where, sp, 4)) return Status.InvalidMemoryAccess
      const value = readProperty(mem.copy(kp, kl), { call, filter: g.host.filter, rootId: g.host.proxyWasm?.rootId, vmId: g.host.proxyWasm?.vmId })
      return value === undefined ? Status.NotFound : g.give(where, value, pp, sp)
    }
  }

  function setValue (where: string, map: number, kp: number, kl: number, vp: number, vl: number, add: boolean): number {
    const m = mapOf(map)
    if (!inBounds(where, kp, kl) || !inBounds(where, vp, vl)) return Status.InvalidMemoryAccess
    if (!isMap(m)) return noMap(m)
    if (!writable()) return Status.BadArgument
    if (g.tooLarge(where, vl)) return Status.BadArgument
    const name = headerName(kp, kl)
    if (name === undefined) return g.refuse(where, `header name ${JSON.stringify(mem.latin1(kp, kl))} is not an HTTP token`)
    return written(where, writeHeader(call, m, name, mem.latin1(vp, vl), add))
  }

  const imports: WebAssembly.ModuleImports = {}
  for (const [name, spec] of Object.entries(PROXY_CALLS)) {
    const fn = impl[name]
    const answer = spec.answer ?? Status.Unimplemented
    imports[name] = fn === undefined
      ? () => answer
      : (...args: never[]): number => {
          if (g.broken) return Status.InternalFailure
          if (g.allocating && !ALLOWED_IN_ALLOCATOR.has(name)) return g.refuse(name, 'called from inside the allocator, which the host called to hand the guest memory')
          return fn(...args)
        }
  }
  imports.emscripten_notify_memory_growth = (): void => {}
  imports.pthread_equal = (a: number, b: number): number => a === b ? 1 : 0
  return imports
}

/** The logger's level as a `proxy_log_level_t`: the lowest level it writes. */
function logLevel (g: Glue): number {
  const enabled = g.host.logger.isLevelEnabled
  if (enabled === undefined) return 2
  const levels = ['trace', 'debug', 'info', 'warn', 'error'] as const
  const i = levels.findIndex((l) => enabled.call(g.host.logger, l))
  return i === -1 ? 5 : i
}

