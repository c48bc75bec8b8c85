import type { EventEmitter } from 'node:events'
import { WaferError } from '../errors.js'
// Types only: the driver runs what runtime/ builds, and runtime/ never imports the driver.
import type { Chain } from '../runtime/chain.js'
import type { Generation } from '../runtime/generation.js'
import type { Decision, LocalResponse } from './decision.js'
import { Exchange, type ExchangeInit, type HeaderValue, type Headers } from './exchange.js'
import { normalizeRequestTarget } from './request-target.js'
import { LiveResponse, type ReplyAccess } from './response-state.js'

/**
 * The protocol around the chain runner, once for every adapter: the request phase split at the
 * first filter that needs the body, headers the request phase adds to the reply, local replies,
 * URL sync, the response phase with write-back, a stream a filter closes (the adapter resets
 * it), and the end of the request (every chain run finished, the generation left) when its
 * response closes. Adapters do framework I/O only,
 * through a `DriverIO`: hand the request on, answer it, read the body, reach the reply.
 */

/**
 * A request's hold on the generation it entered: it stays on that generation from its first
 * filter to its last, and leaves it once, when its response closes (the reply is done or the
 * client is gone), after every chain run on it is finished. A request may pass several chains
 * (Express: the app's, a router's, a route's); they share the hold.
 */
export class RequestHold {
  readonly generation: Generation
  #runs: DrivenExchange | DrivenExchange[] | undefined
  #released = false

  constructor (runtime: { enter (): Generation }) {
    this.generation = runtime.enter()
  }

  /** Releases the hold when `res` closes; one listener function serves every response. */
  watch (res: EventEmitter): void {
    (res as Watched)[kHold] = this
    res.on('close', releaseOnClose)
  }

  add (run: DrivenExchange): void {
    // The response closed before this chain started (the client left while middleware ran).
    if (this.#released) return run.chain.finish(run)
    const runs = this.#runs
    if (runs === undefined) this.#runs = run
    else if (runs instanceof DrivenExchange) this.#runs = [runs, run]
    else runs.push(run)
  }

  /** Finishes every chain run of the request, then leaves the generation; once. */
  release (): void {
    if (this.#released) return
    this.#released = true
    const runs = this.#runs
    this.#runs = undefined
    if (runs instanceof DrivenExchange) runs.chain.finish(runs)
    else if (runs !== undefined) for (const run of runs) run.chain.finish(run)
    this.generation.leave()
  }
}

const kHold = Symbol('wafer.hold')
type Watched = EventEmitter & { [kHold]?: RequestHold }

function releaseOnClose (this: Watched): void {
  this[kHold]?.release()
}

/** One request's run through one chain. Adapters extend it with their framework's objects. */
export class DrivenExchange extends Exchange {
  readonly chain: Chain
  readonly hold: RequestHold

  constructor (init: ExchangeInit, chain: Chain, hold: RequestHold) {
    super(init)
    this.chain = chain
    this.hold = hold
    hold.add(this)
  }
}

/** Where the response phase reports; `runResponsePhase` calls exactly one of them. */
export interface ResponseSink<E extends Exchange> {
  /** The filters are done and what they changed is on the reply; a replaced body (`bodyChanged`) is the adapter's to send. */
  responded (ex: E): void
  /**
   * A filter closed the stream (`ex.closed`): the reply must not be sent. The adapter resets the
   * connection (and drops whatever produces the reply, such as an upstream's body stream).
   */
  closed (ex: E): void
  /** A fault in Wafer (the chain answers filter failures itself). */
  responseFailed (ex: E, err: unknown): void
}

/**
 * An adapter's framework I/O for the request phase. One object per chain the adapter runs,
 * shared by every request: the request at hand is the run passed in, so the driver makes no
 * closure per request.
 */
export interface RequestIO<Run extends DrivenExchange> {
  /** Puts headers request-phase filters added on the reply, whoever writes it later. */
  addResponseHeaders (run: Run, headers: Record<string, HeaderValue>): void
  /** Answers with a filter's (or a failure policy's) response; no later filter or the route runs. */
  sendLocal (run: Run, response: LocalResponse): void
  /**
   * A filter closed the stream: no later filter or the route runs and nothing is answered; the
   * adapter resets the connection. The request still ends when its response closes.
   */
  reset (run: Run): void
  /** Makes a rewritten path or query the route's. Returns false after answering if it cannot. */
  syncUrl (run: Run): boolean
  /** The filters before the first that needs the body continued: call `driver.body(run)` once the body can be read. */
  headDone (run: Run, driver: RequestDriver<Run>): void
  /** Reads the request body, then calls `driver.withBody(run, body)`, or answers with an error. */
  readBody (run: Run, driver: RequestDriver<Run>): void
  /** Every request filter continued: the request goes on to the route, with the body they left. */
  proceed (run: Run): void
  /** A fault in Wafer during the request phase. */
  fail (run: Run, err: unknown): void
}

/** An adapter's framework I/O for the response phase (`RequestDriver#respond`). */
export interface ResponseIO<Run extends DrivenExchange> extends ResponseSink<Run> {
  /** The reply as the response phase reads and changes it. */
  readonly reply: ReplyAccess<Run>
}

export type ResponseNeeds = 'none' | 'headers' | 'body'

/** Drives requests through their chain for one adapter (see the top of this file). */
export class RequestDriver<Run extends DrivenExchange> {
  readonly #io: RequestIO<Run>
  readonly #response: ResponseIO<Run> | undefined

  /** Without `response`, the adapter runs the response phase itself (`runResponsePhase`). */
  constructor (io: RequestIO<Run>, response?: ResponseIO<Run>) {
    this.#io = io
    this.#response = response
  }

  /** Runs the filters before the first that needs the request body. */
  start (run: Run): void {
    this.#settle(run, run.chain.runRequest(run, 0, run.chain.bodyStart), false)
  }

  /**
   * Runs the filters from the first that needs the body on: at once when the request has no
   * body, else once the adapter has read it (`readBody`, then `withBody`).
   */
  body (run: Run): void {
    const chain = run.chain
    if (chain.bodyStart >= chain.filters.length) return this.#io.proceed(run)
    if (!hasBody(run.headers)) return this.#settle(run, chain.runRequest(run, chain.bodyStart), true)
    this.#io.readBody(run, this)
  }

  /**
   * Runs the filters from the first that needs the body on, without one: for a route whose
   * methods never carry a body the framework reads (GET, HEAD), so it has no body phase.
   */
  withoutBody (run: Run): void {
    const chain = run.chain
    if (chain.bodyStart >= chain.filters.length) return this.#io.proceed(run)
    this.#settle(run, chain.runRequest(run, chain.bodyStart), true)
  }

  withBody (run: Run, body: Buffer): void {
    run.body = body
    this.#settle(run, run.chain.runRequest(run, run.chain.bodyStart), true)
  }

  #settle (run: Run, result: Decision | Promise<Decision>, last: boolean): void {
    if (result instanceof Promise) result.then((d) => { this.#decided(run, d, last) }, (err: unknown) => { this.#io.fail(run, err) })
    else this.#decided(run, result, last)
  }

  #decided (run: Run, d: Decision, last: boolean): void {
    const io = this.#io
    const add = run.responseHeaders
    if (add !== undefined) {
      io.addResponseHeaders(run, add)
      run.responseHeaders = undefined
    }
    if (d.respond) return d.response === undefined ? io.reset(run) : io.sendLocal(run, d.response)
    if (run.pathChanged || run.queryChanged) {
      if (!io.syncUrl(run)) return
      run.pathChanged = false
      run.queryChanged = false
    }
    if (last) io.proceed(run)
    else io.headDone(run, this)
  }

  /** What the reply needs from the response phase: nothing, its headers, or its body too. */
  responseNeeds (run: Run): ResponseNeeds {
    return run.chain.responsePhaseFor(run.reached)
  }

  /** Runs the response phase over the reply (status, `body` when the filters need it), then `responded`. */
  respond (run: Run, status: number, body: Buffer | undefined): void {
    const io = this.#response
    if (io === undefined) throw new Error('RequestDriver#respond() needs the response I/O passed to the constructor')
    run.response = new LiveResponse(io.reply, run, status, body)
    runResponsePhase(run.chain, run, io)
  }
}

/**
 * Runs `chain`'s response phase over `ex.response`, writes back the status and headers the
 * filters changed, and reports to `sink`; or, when a filter closed the stream, reports that
 * instead and writes nothing back.
 */
export function runResponsePhase<E extends Exchange> (chain: Chain, ex: E, sink: ResponseSink<E>): void {
  let result: void | Promise<void>
  try {
    result = chain.runResponse(ex)
  } catch (err) {
    sink.responseFailed(ex, err)
    return
  }
  if (result instanceof Promise) result.then(() => { responded(ex, sink) }, (err: unknown) => { sink.responseFailed(ex, err) })
  else responded(ex, sink)
}

function responded<E extends Exchange> (ex: E, sink: ResponseSink<E>): void {
  if (ex.closed) return sink.closed(ex)
  const res = ex.response
  if (res instanceof LiveResponse) res.writeBack()
  sink.responded(ex)
}

/** The client's request target in normal form, or the coded 400 error refusing it (request-target.ts). */
export function requestTarget (url: string): string | WaferError {
  const target = normalizeRequestTarget(url)
  if (typeof target === 'string') return target
  const shown = JSON.stringify(url.length > 200 ? `${url.slice(0, 200)}...` : url)
  return new WaferError('WAFER_ERR_BAD_REQUEST_TARGET', [shown, target.refused])
}

/** Whether the request carries a body, by the rules body parsers use (type-is `hasBody`). */
export function hasBody (headers: Headers): boolean {
  if (headers['transfer-encoding'] !== undefined) return true
  const len = headers['content-length']
  return len !== undefined && len !== '0'
}
