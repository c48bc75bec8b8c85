import { pointer, show } from './config-error.js'
import { configDefaults as d } from './defaults.js'

type Obj = Record<string, unknown>
export type Add = (path: string, message: string, value: unknown) => void

const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v)

/**
 * What the schema cannot say about one filter, whether a config file declares it or code passes
 * it to createWafer: its config must be JSON, and pool.min may not exceed pool.max (given or
 * default). `base` is the filter's JSON pointer.
 */
export function filterProblems (base: string, f: unknown, add: Add): void {
  if (!isObj(f)) return
  if (f.config !== undefined) checkJson(pointer(base, 'config'), f.config, add)
  if (isObj(f.pool)) {
    const min = f.pool.min
    const max = f.pool.max ?? d.filter.pool.max
    if (typeof min === 'number' && typeof max === 'number' && min > max) {
      add(pointer(pointer(base, 'pool'), 'min'), `must not exceed pool.max (${max}${f.pool.max === undefined ? ', the default' : ''}), got ${min}`, min)
    }
  }
}

/** Filter configs are handed to the guest as JSON: reject what JSON cannot carry. */
export function checkJson (path: string, v: unknown, add: Add): void {
  if (v === null || typeof v === 'string' || typeof v === 'boolean') return
  if (typeof v === 'number') {
    if (!Number.isFinite(v)) add(path, `must be a JSON value (numbers must be finite), got ${show(v)}`, v)
    return
  }
  if (Array.isArray(v)) {
    v.forEach((item, i) => { checkJson(pointer(path, i), item, add) })
    return
  }
  if (isObj(v) && [Object.prototype, null].includes(Object.getPrototypeOf(v))) {
    for (const [k, item] of Object.entries(v)) checkJson(pointer(path, k), item, add)
    return
  }
  add(path, `must be a JSON value (null, boolean, finite number, string, array or plain object), got ${show(v)}`, v)
}
