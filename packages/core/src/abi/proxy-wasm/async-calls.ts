import type { CalloutAnswer, Glue } from './glue.js'
import { calloutRequest } from './http-call.js'
import { parsePairs, serializePairs } from './pairs.js'
import { Status } from './spec.js'

type Fn = (...args: never[]) => number

/** Most milliseconds `setInterval` takes; a longer period would fire at once. */
const MAX_TICK_MS = 2_147_483_647

/**
 * The host calls whose answers come outside the callback that made them (docs/proxy-wasm.md,
 * "HTTP calls", "Timers", "Shared queues"): they check their pointers and arguments, then hand
 * the work to the instance (the `Glue`), which calls the guest back later, never inside a host
 * call. Spread into host-calls.ts's table.
 */
export function asyncImports (g: Glue): Record<string, Fn> {
  const { mem } = g
  const inBounds = (where: string, ptr: number, len: number): boolean => {
    if (mem.inBounds(ptr, len)) return true
    g.badPointer(where, ptr, len)
    return false
  }
  const warn = (text: string): void => {
    const logger = g.call.ex?.log ?? g.host.logger
    logger.warn({ filter: g.host.filter }, `filter "${g.host.filter}": ${text}`)
  }
  const vmId = (): string => g.host.proxyWasm?.vmId ?? ''
  const queues = g.host.queues

  return {
    proxy_http_call: (up: number, ul: number, hp: number, hl: number, bp: number, bl: number, tp: number, tl: number, timeout: number, tokenPtr: number): number => {
      const where = 'proxy_http_call'
      if (!inBounds(where, up, ul) || !inBounds(where, hp, hl) || !inBounds(where, bp, bl) || !inBounds(where, tp, tl) || !inBounds(where, tokenPtr, 4)) return Status.InvalidMemoryAccess
      if (g.tooLarge(where, hl) || g.tooLarge(where, bl)) return Status.BadArgument
      const name = mem.utf8(up, ul)
      const base = g.host.proxyWasm?.upstreams?.[name]
      if (base === undefined) {
        warn(`proxy_http_call to upstream ${JSON.stringify(name)}, which is not in its proxyWasm.upstreams: BAD_ARGUMENT`)
        return Status.BadArgument
      }
      const pairs = parsePairs(mem.copy(hp, hl))
      if (typeof pairs === 'string') return g.refuse(where, `malformed header map: ${pairs}`)
      const request = calloutRequest(name, new URL(base), pairs)
      if (typeof request === 'string') {
        warn(`proxy_http_call to upstream "${name}": ${request}: BAD_ARGUMENT`)
        return Status.BadArgument
      }
      // The call's timeout, capped by the filter's limits.timeoutMs (0: the cap).
      const cap = g.host.limits.timeoutMs
      const ms = timeout >>> 0
      const token = g.startCall(request, mem.copy(bp, bl), ms === 0 || ms > cap ? cap : ms)
      if (token === undefined) {
        warn(`proxy_http_call to upstream "${name}" refused: too many calls outstanding on one instance: INTERNAL_FAILURE`)
        return Status.InternalFailure
      }
      return g.put(where, tokenPtr, token) ? Status.Ok : Status.InvalidMemoryAccess
    },
    proxy_set_tick_period_milliseconds: (ms: number): number => {
      if (ms >>> 0 > MAX_TICK_MS) return Status.BadArgument
      g.setTickPeriod(ms >>> 0)
      return Status.Ok
    },
    proxy_register_shared_queue: (np: number, nl: number, tokenPtr: number): number => {
      const where = 'proxy_register_shared_queue'
      if (!inBounds(where, np, nl) || !inBounds(where, tokenPtr, 4)) return Status.InvalidMemoryAccess
      if (queues === undefined) return Status.Unimplemented
      if (g.tooLarge(where, nl)) return Status.BadArgument
      const token = queues.register(vmId(), mem.utf8(np, nl), g.queueReceiver)
      return g.put(where, tokenPtr, token) ? Status.Ok : Status.InvalidMemoryAccess
    },
    proxy_resolve_shared_queue: (vp: number, vl: number, np: number, nl: number, tokenPtr: number): number => {
      const where = 'proxy_resolve_shared_queue'
      if (!inBounds(where, vp, vl) || !inBounds(where, np, nl) || !inBounds(where, tokenPtr, 4)) return Status.InvalidMemoryAccess
      if (queues === undefined) return Status.NotFound
      const token = queues.resolve(mem.utf8(vp, vl), mem.utf8(np, nl))
      if (token === undefined) return Status.NotFound
      return g.put(where, tokenPtr, token) ? Status.Ok : Status.InvalidMemoryAccess
    },
    proxy_enqueue_shared_queue: (token: number, dp: number, dl: number): number => {
      const where = 'proxy_enqueue_shared_queue'
      if (!inBounds(where, dp, dl)) return Status.InvalidMemoryAccess
      if (queues === undefined) return Status.NotFound
      if (g.tooLarge(where, dl)) return Status.BadArgument
      const result = queues.enqueue(token >>> 0, mem.copy(dp, dl))
      if (result === 'full') warn(`proxy_enqueue_shared_queue: queue ${token >>> 0} is full; the message was dropped: INTERNAL_FAILURE`)
      return result === 'ok' ? Status.Ok : result === 'full' ? Status.InternalFailure : Status.NotFound
    },
    proxy_dequeue_shared_queue: (token: number, pp: number, sp: number): number => {
      const where = 'proxy_dequeue_shared_queue'
      if (!inBounds(where, pp, 4) || !inBounds(where, sp, 4)) return Status.InvalidMemoryAccess
      if (queues === undefined) return Status.NotFound
      const data = queues.dequeue(token >>> 0, vmId())
      if (data === null) return Status.NotFound
      if (data === undefined) return Status.Empty
      return g.give(where, data, pp, sp)
    }
  }
}

/** An HTTP call's response headers as a serialised map (map 6), made once per answer. */
export function calloutPairs (answer: CalloutAnswer): Buffer {
  answer.serialized ??= serializePairs(answer.headers)
  return answer.serialized
}

/** One response header of an HTTP call (a lower-case name), repeated values joined with ", ". */
export function calloutValue (answer: CalloutAnswer, name: string): string | undefined {
  let value: string | undefined
  for (const [n, v] of answer.headers) if (n === name) value = value === undefined ? v : `${value}, ${v}`
  return value
}
