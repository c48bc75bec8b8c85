import { vmSlotPrefix, type SharedData } from '../../state/shared-data.js'
import { FilterStore, MAX_KEY_BYTES, MAX_VALUE_BYTES } from '../filter-store.js'
import type { Glue } from './glue.js'
import { Status } from './spec.js'

type Fn = (...args: never[]) => number

/**
 * `proxy_get_shared_data` and `proxy_set_shared_data` (docs/proxy-wasm.md, "Shared data"), over
 * the runtime's table (`GuestHost#sharedData`), in the filter's VM (`proxyWasm.vmId`). Keys are
 * at most `MAX_KEY_BYTES`, values `MAX_VALUE_BYTES`, as for the native ABI's store; a longer one
 * gets `BAD_ARGUMENT`. A table that cannot answer (Redis down or slow) gets `INTERNAL_FAILURE`.
 */
export function sharedDataImports (g: Glue): Record<string, Fn> {
  const { mem } = g
  // The slot of a key: the VM's prefix and the key, the same string for a repeated key.
  const slots = new FilterStore(vmSlotPrefix(g.host.proxyWasm?.vmId ?? '').slice(0, -1))
  let warnedFull = false
  const table = (): SharedData | undefined => g.host.sharedData?.()
  const inBounds = (where: string, ptr: number, len: number): boolean => {
    if (mem.inBounds(ptr, len)) return true
    g.badPointer(where, ptr, len)
    return false
  }
  return {
    proxy_get_shared_data: (kp: number, kl: number, vpp: number, vsp: number, cp: number): number => {
      const where = 'proxy_get_shared_data'
      if (!inBounds(where, kp, kl) || !inBounds(where, vpp, 4) || !inBounds(where, vsp, 4) || !inBounds(where, cp, 4)) return Status.InvalidMemoryAccess
      const t = table()
      if (t === undefined) return Status.Unimplemented
      if (kl >>> 0 > MAX_KEY_BYTES) return Status.BadArgument
      const entry = t.get(slots.key(mem, kp, kl))
      if (entry === undefined) return Status.NotFound
      if (entry === 'unavailable') return Status.InternalFailure
      const given = g.give(where, entry.value, vpp, vsp)
      if (given !== Status.Ok) return given
      return g.put(where, cp, entry.cas) ? Status.Ok : Status.InvalidMemoryAccess
    },
    proxy_set_shared_data: (kp: number, kl: number, vp: number, vl: number, cas: number): number => {
      const where = 'proxy_set_shared_data'
      if (!inBounds(where, kp, kl) || !inBounds(where, vp, vl)) return Status.InvalidMemoryAccess
      const t = table()
      if (t === undefined) return Status.Unimplemented
      if (kl >>> 0 > MAX_KEY_BYTES || vl >>> 0 > MAX_VALUE_BYTES) return Status.BadArgument
      const result = t.set(slots.key(mem, kp, kl), mem.view().subarray(vp >>> 0, (vp >>> 0) + (vl >>> 0)), cas >>> 0)
      if (result === 'ok') return Status.Ok
      if (result === 'cas-mismatch') return Status.CasMismatch
      if (result === 'full' && !warnedFull) {
        warnedFull = true
        g.host.logger.warn({ filter: g.host.filter }, `${where}: the shared-data table is full (a new key was refused); the filter gets INTERNAL_FAILURE`)
      }
      return Status.InternalFailure
    }
  }
}
