import { WaferError } from '../errors.js'
import { errorResponse } from '../http/error-body.js'
import type { Exchange } from '../http/exchange.js'
import { CONTINUE, replaceResponse, type CloseStream, type Decision, type LocalResponse } from '../http/decision.js'
import { failureReason, type Filter } from './filter.js'
import { bindingsOf, finishBindings } from './request-binding.js'

/**
 * An ordered list of filters, validated once when composed, and the one runner every request
 * goes through. The request phase runs filters in order until one responds; the response phase
 * runs, in reverse, the filters the request passed. Both stay synchronous until a filter
 * actually waits, so a chain of header-only filters costs no promise.
 */
export class Chain {
  readonly name: string
  readonly filters: readonly Filter[]
  /** Index of the first filter that needs the request body; `filters.length` when none does. */
  readonly bodyStart: number
  readonly hasRequestPhase: boolean
  readonly hasResponsePhase: boolean
  readonly needsResponseBody: boolean
  /** A filter keeps an instance bound to a request between phases, so `finish` has work to do. */
  readonly #perRequest: boolean
  /** Index of the first filter with a response phase, and of the first that needs the reply body. */
  readonly #firstResponse: number
  readonly #firstResponseBody: number

  constructor (name: string, filters: readonly Filter[]) {
    this.name = name
    this.filters = Object.freeze([...filters])
    const body = filters.findIndex((f) => f.hasRequestPhase && f.needs.requestBody)
    this.bodyStart = body === -1 ? filters.length : body
    this.hasRequestPhase = filters.some((f) => f.hasRequestPhase)
    this.hasResponsePhase = filters.some((f) => f.hasResponsePhase)
    this.needsResponseBody = filters.some((f) => f.hasResponsePhase && f.needs.responseBody)
    this.#perRequest = filters.some((f) => f.perRequest)
    const at = (i: number): number => i === -1 ? Infinity : i
    this.#firstResponse = at(filters.findIndex((f) => f.hasResponsePhase))
    this.#firstResponseBody = at(filters.findIndex((f) => f.hasResponsePhase && f.needs.responseBody))
  }

  /**
   * What the response phase of a request that passed `reached` filters needs: nothing (no filter
   * it passed has a response phase), the headers, or the reply body too. Constant time: it is
   * asked on every reply.
   */
  responsePhaseFor (reached: number): 'none' | 'headers' | 'body' {
    if (this.#firstResponse >= reached) return 'none'
    return this.#firstResponseBody < reached ? 'body' : 'headers'
  }

  /** Runs request-phase filters `from` (inclusive) to `to` (exclusive). */
  runRequest (ex: Exchange, from = 0, to = this.filters.length): Decision | Promise<Decision> {
    for (let i = from; i < to; i++) {
      const filter = this.filters[i] as Filter
      let decision: Decision | Promise<Decision> = CONTINUE
      if (filter.hasRequestPhase) {
        try {
          decision = filter.perRequest ? filter.request(ex, bindingsOf(ex, this.filters.length), i) : filter.request(ex)
        } catch (err) {
          decision = failed(filter, err, ex, 'request')
        }
      }
      if (decision instanceof Promise) {
        return decision
          .catch((err: unknown) => failed(filter, err, ex, 'request'))
          .then((d) => {
            if (debug(ex)) logDecision(ex, filter, 'request', d)
            if (d.respond) return d.response === undefined ? closed(ex, filter, 'request', d) : d
            ex.reached = i + 1
            return this.runRequest(ex, i + 1, to)
          })
      }
      if (filter.hasRequestPhase && debug(ex)) logDecision(ex, filter, 'request', decision)
      if (decision.respond) return decision.response === undefined ? closed(ex, filter, 'request', decision) : decision
      ex.reached = i + 1
    }
    return CONTINUE
  }

  /**
   * Runs response-phase filters over `ex.response`, from the last filter the request passed
   * back to the first. A filter that responds replaces the reply and ends the phase.
   */
  runResponse (ex: Exchange, from = ex.reached - 1): void | Promise<void> {
    for (let i = from; i >= 0; i--) {
      const filter = this.filters[i] as Filter
      if (!filter.hasResponsePhase) continue
      let decision: Decision | Promise<Decision>
      try {
        decision = filter.perRequest ? filter.response(ex, bindingsOf(ex, this.filters.length), i) : filter.response(ex)
      } catch (err) {
        decision = failed(filter, err, ex, 'response')
      }
      if (decision instanceof Promise) {
        return decision
          .catch((err: unknown) => failed(filter, err, ex, 'response'))
          .then((d) => {
            if (debug(ex)) logDecision(ex, filter, 'response', d)
            if (d.respond && d.response === undefined) closed(ex, filter, 'response', d)
            return d.respond ? undefined : this.runResponse(ex, i - 1)
          })
      }
      if (debug(ex)) logDecision(ex, filter, 'response', decision)
      if (decision.respond) {
        if (decision.response === undefined) closed(ex, filter, 'response', decision)
        return
      }
    }
  }

  /**
   * Ends the request for every filter it entered. Adapters call it exactly once per request,
   * when the response has closed (finished, or the client went away), whatever happened before:
   * a local response, a failure, or a normal reply. Each filter that holds an instance for the
   * request runs its `done` (after the phase in progress, if one still runs) and releases it.
   * A chain of per-phase filters has nothing to do. It never throws.
   */
  finish (ex: Exchange): void {
    if (!this.#perRequest) return
    const bindings = finishBindings(ex)
    if (bindings === undefined) return
    const slots = bindings.slots
    for (let i = 0; i < slots.length; i++) {
      const binding = slots[i]
      if (binding !== undefined) (this.filters[i] as Filter).end(binding, ex)
    }
  }
}

function debug (ex: Exchange): boolean {
  return ex.log.isLevelEnabled?.('debug') ?? false
}

/** Filter decisions at debug level: what each filter did to this request. */
function logDecision (ex: Exchange, filter: Filter, phase: 'request' | 'response', d: Decision): void {
  if (d.respond && d.response === undefined) return
  if (d.respond) ex.log.debug({ filter: filter.name, phase, decision: 'respond', status: d.response.status }, `filter "${filter.name}" responded ${d.response.status}`)
  else ex.log.debug({ filter: filter.name, phase, decision: 'continue' }, `filter "${filter.name}" continued`)
}

/**
 * A filter closed the stream: the request is marked for the adapter, which resets the
 * connection, and an info line names the filter (a deliberate outcome, not a failure).
 */
function closed (ex: Exchange, filter: Filter, phase: 'request' | 'response', d: CloseStream): CloseStream {
  ex.closed = true
  ex.log.info({ filter: filter.name, phase, decision: 'close' }, `filter "${filter.name}" closed the stream in the ${phase} phase; the client's connection is reset without a response`)
  return d
}

/** Applies the filter's failure policy: skip it (fail-open) or answer with an error (fail-closed). */
function failed (filter: Filter, err: unknown, ex: Exchange, phase: 'request' | 'response'): Decision {
  filter.recordFailure(err)
  if (filter.failurePolicy === 'fail-open') {
    ex.log.warn({ filter: filter.name, err, phase }, `filter "${filter.name}" failed; skipped (fail-open)`)
    return CONTINUE
  }
  ex.log.error({ filter: filter.name, err, phase }, `filter "${filter.name}" failed; request answered with an error (fail-closed)`)
  const response = failureResponse(filter.name, err)
  if (phase === 'response') replaceResponse(ex, response)
  return { respond: true, response }
}

/**
 * The JSON error a client sees when a filter fails (fail-closed): 503, the filter, the error
 * code and the reason class, but not the message, which may carry file paths; the log line has
 * everything.
 */
export function failureResponse (filter: string, err: unknown): LocalResponse {
  const code = err instanceof WaferError ? err.code : 'WAFER_ERR_INTERNAL'
  return errorResponse(503, code, `Filter "${filter}" failed`, { filter, reason: failureReason(code) })
}
