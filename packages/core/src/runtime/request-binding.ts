import type { GuestInstance } from '../abi/types.js'
import type { Exchange } from '../http/exchange.js'
import type { Lease } from './pool.js'

/**
 * One filter's hold on one request, for an ABI that keeps guest state per request
 * (`GuestAbi#perRequest`): the instance it bound from `begin` to `done`. Filter owns the
 * transitions; a binding is created when the filter's first phase of the request starts.
 */
export class Binding {
  readonly lease: Lease<GuestInstance>
  /** A phase is running on the instance (it may be waiting for an asynchronous result). */
  running = false
  /** The request is over for this filter: `done` has run, or runs when the phase in progress settles. */
  ended = false
  /** `done` has been called and the lease given back (or is about to be, after an asynchronous `done`). */
  released = false

  constructor (lease: Lease<GuestInstance>) {
    this.lease = lease
  }
}

/** A request's bindings by chain position, and whether the chain has finished the request. */
export class RequestBindings {
  ended = false
  readonly slots: Array<Binding | undefined>

  constructor (size: number) {
    this.slots = new Array<Binding | undefined>(size).fill(undefined)
  }
}

/**
 * Kept on the Exchange, under a symbol, only by chains with a per-request filter: a chain of
 * per-phase filters never touches it, so their requests allocate nothing for it. One Exchange
 * runs through one chain.
 */
const kBindings = Symbol('wafer.bindings')
type Holder = Exchange & { [kBindings]?: RequestBindings }

/** What a request finished before any filter bound to it is marked with: no binding outlives a phase. */
const FINISHED = new RequestBindings(0)
FINISHED.ended = true
Object.freeze(FINISHED.slots)
Object.freeze(FINISHED)

/** The request's bindings, created on first use for a chain of `size` filters. */
export function bindingsOf (ex: Exchange, size: number): RequestBindings {
  return ((ex as Holder)[kBindings] ??= new RequestBindings(size))
}

/** Marks the request finished; returns its bindings if a filter bound to it. */
export function finishBindings (ex: Exchange): RequestBindings | undefined {
  const holder = ex as Holder
  const bindings = holder[kBindings]
  if (bindings === undefined) {
    holder[kBindings] = FINISHED
    return undefined
  }
  bindings.ended = true
  return bindings
}
