import type { CounterResult } from '../../state/store.js'
import { MAX_KEY_BYTES, MAX_VALUE_BYTES } from '../filter-store.js'
import type { GuestMemory } from '../guest-memory.js'
import type { GuestHost } from '../types.js'
import { Code } from './codes.js'

/** The size of a store result record: status, length, value, ttl (docs/abi.md section 4). */
const RECORD = 24

/** What the kv imports need from the instance they belong to. */
export interface KvImportContext {
  readonly mem: GuestMemory
  readonly host: GuestHost
  /** A request phase is running (the store is only reachable then). */
  active (): boolean
  badPointer (where: string, ptr: number, len: number): number
  /** Counts an operation against the phase's budget: undefined, or the code to return (the call fails). */
  startOp (name: string): number | undefined
  /** The store threw: the call fails with WAFER_ERR_STATE. */
  failed (name: string, err: unknown): number
  /** An answer still on its way: its token; `deliver` writes it before the guest resumes. */
  later<T> (name: string, answer: Promise<T>, deliver: (value: T) => void): number
}

/**
 * The native ABI's store imports (docs/abi.md sections 4 and 6). A store that answers at once
 * (the in-memory one) fills the record inside the call, with no closure or promise made; a
 * later answer gets a token and is delivered before `wafer_on_resume`.
 */
export function kvImports (c: KvImportContext): WebAssembly.ModuleImports {
  const { mem, host } = c
  const key = (ptr: number, len: number, where: string): string | number => {
    if (len >>> 0 > MAX_KEY_BYTES) return Code.TooLarge
    if (!mem.inBounds(ptr, len)) return c.badPointer(where, ptr, len)
    return host.kv.key(mem, ptr, len)
  }
  const record = (res: number, where: string): boolean => {
    if (mem.inBounds(res, RECORD)) return true
    c.badPointer(where, res, RECORD)
    return false
  }
  const writeIncr = (res: number, r: CounterResult): void => { mem.writeRecord(res, 0, 0, r.value, r.ttlMs) }
  const writeGet = (res: number, buf: number, cap: number, v: Uint8Array | undefined): void => {
    if (v === undefined) mem.writeRecord(res, 1, 0, 0, 0)
    else mem.writeRecord(res, 0, mem.writeBytes(v, buf, cap), 0, 0)
  }

  return {
    kv_get: (kp: number, kl: number, buf: number, cap: number, res: number): number => {
      if (!c.active()) return Code.Unavailable
      const k = key(kp, kl, 'kv_get')
      if (typeof k === 'number') return k
      if (!mem.inBounds(buf, cap)) return c.badPointer('kv_get', buf, cap)
      if (!record(res, 'kv_get')) return Code.BadPointer
      const over = c.startOp('kv_get')
      if (over !== undefined) return over
      let v
      try {
        v = host.store.get(k)
      } catch (err) {
        return c.failed('kv_get', err)
      }
      if (v instanceof Promise) return c.later('kv_get', v, (later) => { writeGet(res, buf, cap, later) })
      writeGet(res, buf, cap, v)
      return Code.Ok
    },
    kv_set: (kp: number, kl: number, vp: number, vl: number, ttlMs: number, res: number): number => {
      if (!c.active()) return Code.Unavailable
      const k = key(kp, kl, 'kv_set')
      if (typeof k === 'number') return k
      if (vl >>> 0 > MAX_VALUE_BYTES) return Code.TooLarge
      if (!mem.inBounds(vp, vl)) return c.badPointer('kv_set', vp, vl)
      if (!record(res, 'kv_set')) return Code.BadPointer
      const over = c.startOp('kv_set')
      if (over !== undefined) return over
      let done
      try {
        done = host.store.set(k, mem.copy(vp, vl), { ttlMs: Math.max(0, ttlMs) })
      } catch (err) {
        return c.failed('kv_set', err)
      }
      if (done instanceof Promise) return c.later('kv_set', done, () => { mem.writeRecord(res, 0, 0, 0, 0) })
      mem.writeRecord(res, 0, 0, 0, 0)
      return Code.Ok
    },
    kv_incr: (kp: number, kl: number, delta: number, ttlMs: number, res: number): number => {
      if (!c.active()) return Code.Unavailable
      const k = key(kp, kl, 'kv_incr')
      if (typeof k === 'number') return k
      if (!record(res, 'kv_incr')) return Code.BadPointer
      const over = c.startOp('kv_incr')
      if (over !== undefined) return over
      let r
      try {
        r = host.store.incr(k, { by: delta, ttlMs: Math.max(0, ttlMs) })
      } catch (err) {
        return c.failed('kv_incr', err)
      }
      if (r instanceof Promise) return c.later('kv_incr', r, (v) => { writeIncr(res, v) })
      writeIncr(res, r)
      return Code.Ok
    },
    kv_del: (kp: number, kl: number, res: number): number => {
      if (!c.active()) return Code.Unavailable
      const k = key(kp, kl, 'kv_del')
      if (typeof k === 'number') return k
      if (!record(res, 'kv_del')) return Code.BadPointer
      const over = c.startOp('kv_del')
      if (over !== undefined) return over
      let existed
      try {
        existed = host.store.delete(k)
      } catch (err) {
        return c.failed('kv_del', err)
      }
      if (existed instanceof Promise) return c.later('kv_del', existed, (e) => { mem.writeRecord(res, e ? 0 : 1, 0, 0, 0) })
      mem.writeRecord(res, existed ? 0 : 1, 0, 0, 0)
      return Code.Ok
    }
  }
}
