import { isUtf8 } from 'node:buffer'
import type { Glue } from './glue.js'
import { MAX_METRICS_PER_FILTER, MAX_METRIC_NAME_BYTES } from './metrics.js'
import { Status } from './spec.js'

type Fn = (...args: never[]) => number

/**
 * `proxy_define_metric`, `proxy_increment_metric`, `proxy_record_metric` and `proxy_get_metric`
 * (docs/proxy-wasm.md, "Metrics"), over the filter's metrics (`GuestHost#metrics`), with Envoy's
 * rules: a counter only goes up (an increment must be positive; a record adds), a gauge is
 * incremented by any amount or set by a record, a histogram is recorded into and not read.
 */
export function metricImports (g: Glue): Record<string, Fn> {
  const { mem } = g
  return {
    proxy_define_metric: (type: number, np: number, nl: number, ip: number): number => {
      const where = 'proxy_define_metric'
      if (!mem.inBounds(np, nl)) return g.badPointer(where, np, nl)
      if (!mem.inBounds(ip, 4)) return g.badPointer(where, ip, 4)
      const metrics = g.host.metrics
      if (metrics === undefined) return Status.Unimplemented
      if (type < 0 || type > 2 || nl === 0 || nl >>> 0 > MAX_METRIC_NAME_BYTES) return Status.BadArgument
      const bytes = mem.view().subarray(np >>> 0, (np >>> 0) + (nl >>> 0))
      if (!isUtf8(bytes)) return Status.BadArgument
      const id = metrics.define(type, bytes.toString('utf8'))
      if (typeof id === 'number') return g.put(where, ip, id) ? Status.Ok : Status.InvalidMemoryAccess
      if (id === 'type-mismatch') return Status.BadArgument
      if (!metrics.warned) {
        metrics.warned = true
        g.host.logger.warn({ filter: g.host.filter }, `${where}: filter "${g.host.filter}" defines more than ${MAX_METRICS_PER_FILTER} metrics; "${bytes.toString('utf8')}" and any further new names get INTERNAL_FAILURE`)
      }
      return Status.InternalFailure
    },
    proxy_increment_metric: (id: number, offset: bigint): number => {
      const m = g.host.metrics?.get(id >>> 0)
      if (m === undefined) return Status.NotFound
      const by = Number(offset)
      if (m.type === 'gauge') m.value += by
      else if (m.type === 'counter' && by > 0) m.value += by
      else return Status.BadArgument
      return Status.Ok
    },
    proxy_record_metric: (id: number, value: bigint): number => {
      const m = g.host.metrics?.get(id >>> 0)
      if (m === undefined) return Status.NotFound
      const v = Number(BigInt.asUintN(64, value))
      if (m.type === 'counter') m.value += v
      else if (m.type === 'gauge') m.value = v
      else m.observe(v)
      return Status.Ok
    },
    proxy_get_metric: (id: number, ptr: number): number => {
      const where = 'proxy_get_metric'
      if (!mem.inBounds(ptr, 8)) return g.badPointer(where, ptr, 8)
      const m = g.host.metrics?.get(id >>> 0)
      if (m === undefined) return Status.NotFound
      if (m.type === 'histogram') return Status.BadArgument
      return g.put(where, ptr, BigInt.asUintN(64, BigInt(Math.trunc(m.value))), true) ? Status.Ok : Status.InvalidMemoryAccess
    }
  }
}
