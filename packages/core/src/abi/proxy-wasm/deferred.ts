import { WaferError } from '../../errors.js'
import type { Exchange } from '../../http/exchange.js'
import type { Decision, LocalResponse } from '../../http/decision.js'
import type { FilterNeeds, GuestHost, GuestInstance } from '../types.js'
import type { CalloutAnswer } from './glue.js'
import { GlueBase } from './glue-base.js'
import { Callouts, type CalloutRequest, type CalloutResult } from './http-call.js'
import { PauseState, type Paused } from './pause.js'
import type { QueueReceiver } from './queues.js'
import { Status } from './spec.js'
import { Ticker } from './ticks.js'

/**
 * What an instance does outside the callbacks of the request it serves (docs/proxy-wasm.md,
 * "Pause and resume", "HTTP calls", "Timers", "Shared queues"): it holds a paused request, keeps
 * its HTTP calls, tick timer and queue registrations, calls the guest back when one of them
 * fires (never inside a host call), and ends its root context when the pool lets it go.
 * instance.ts, which extends it, enters the guest and owns the request's own callbacks.
 */
export abstract class DeferredGlue extends GlueBase implements GuestInstance {
  healthy = true
  /** The request held paused, and its deadline (limits.timeoutMs). */
  protected readonly pause: PauseState
  /** Why the instance broke outside a callback of the request it serves (a trap in a tick). */
  protected broke: WaferError | undefined
  callout: CalloutAnswer | undefined
  readonly queueReceiver: QueueReceiver = {
    queueReady: (token) => { setImmediate(() => { this.#deliver('proxy_on_queue_ready', this.rootId, token) }) }
  }

  readonly #calls = new Callouts()
  readonly #ticks = new Ticker(() => { this.#deliver('proxy_on_tick', this.rootId) })
  /** The pool let the instance go: its root context is ending (proxy_on_done, maybe waiting for proxy_done). */
  #closing = false
  /** Its root context has ended: nothing calls into it again. */
  #closed = false
  /** The bound on the wait for proxy_done after a root proxy_on_done that returned false. */
  #doneTimer: NodeJS.Timeout | undefined
  /** A callback outside the request's own (tick, queue, HTTP answer) is running. */
  #later = false

  constructor (host: GuestHost) {
    super(host)
    this.pause = new PauseState(host.filter, host.limits)
  }

  abstract init (config: Buffer): FilterNeeds
  abstract onRequest (ex: Exchange, withBody: boolean): Decision | Promise<Decision>
  abstract onResponse (ex: Exchange, withBody: boolean): Decision | Promise<Decision>
  /** Whether the module exports `name`. */
  protected abstract exported (name: string): boolean
  /** Calls an export with the context it is for first; throws the coded error of a trap or a fault. */
  protected abstract enter (name: string, a?: number, b?: number, c?: number, d?: number, e?: number): number

  /** The client went away while the request waits paused: it settles now, the guest is not entered. */
  abort (ex: Exchange): void {
    this.pause.abort(ex)
  }

  /**
   * The root context ends, as when Envoy removes a plugin: on a healthy instance,
   * `proxy_on_done(root)`; a false from it, with something outstanding that could call the guest
   * back, waits for `proxy_done` (at most limits.timeoutMs), so a filter can flush what it holds.
   * Then `proxy_on_delete(root)`, timers stop, HTTP calls are cancelled, queues forget the
   * instance, and nothing enters it again. A broken instance only gets the last part.
   */
  close (): void {
    if (this.#closing) return
    this.#closing = true
    if (this.pause.current !== undefined) this.pause.fail(this.error('WAFER_ERR_FILTER_CLOSED', [this.host.filter]))
    if (this.#rootCallback('proxy_on_done') === 0 && this.healthy && this.canResume()) {
      this.#doneTimer = setTimeout(this.#shutdown, this.host.limits.timeoutMs)
      this.#doneTimer.unref()
      return
    }
    this.#shutdown()
  }

  /** `proxy_done`: the root context that asked to wait in its proxy_on_done is done. */
  proxyDone (): Status {
    if (this.#doneTimer === undefined || this.#closed) return Status.NotFound
    clearTimeout(this.#doneTimer)
    this.#doneTimer = undefined
    // Not from inside the callback that called it (as the cpp-host defers the delete).
    setImmediate(this.#shutdown)
    return Status.Ok
  }

  /** The host call checked `id`: the root context or the request's. */
  setEffectiveContext (id: number): Status {
    if (this.#later) {
      // In a tick, a queue or an HTTP answer, a paused request is reachable through its context.
      const paused = this.pause.current
      if (paused !== undefined && id === paused.context) this.#enterStream(paused)
      else this.stage = 'async'
    }
    return Status.Ok
  }

  /**
   * An HTTP call is the root context's whatever context makes it (the cpp-host's http_call
   * works on `root_context()`): its answer comes to the root context, which makes the request's
   * context effective to act on it, and it outlives the request.
   */
  startCall (request: CalloutRequest, body: Buffer, timeoutMs: number): number | undefined {
    if (this.#closed) return undefined
    return this.#calls.start(request, body, timeoutMs, this.host.limits.maxOutputBytes, this.#answer)
  }

  setTickPeriod (ms: number): void {
    // A module without proxy_on_tick gets no timer (nothing would resume a pause on it).
    this.#ticks.set(this.#closed || !this.exported('proxy_on_tick') ? 0 : ms)
  }

  /** Whether something outstanding could still call the guest back and resume a paused request. */
  protected canResume (): boolean {
    return this.#calls.size > 0 || this.#ticks.active || (this.host.queues?.receives(this.queueReceiver) ?? false)
  }

  /** The request's stream context ends: nothing holds it paused any more. */
  protected endStream (ex: Exchange): void {
    this.pause.drop(ex)
  }

  /**
   * A paused request reached its deadline: the guest still holds it as paused, so the instance
   * is discarded (as a native filter's), and nothing it does later reaches the request.
   */
  protected readonly expired = (): void => {
    this.healthy = false
    this.close()
  }

  /** A callback failed: the instance is broken, unless its store failed (the guest is fine). */
  protected failed (err: unknown): void {
    if (!(err instanceof WaferError && err.code === 'WAFER_ERR_STATE')) this.healthy = false
  }

  /** A callback is over: what host calls could reach goes with it. */
  protected endCallback (): void {
    this.call.end()
    this.stage = 'idle'
    this.fault = undefined
    this.entry = ''
    this.#later = false
    this.callout = undefined
  }

  readonly #shutdown = (): void => {
    if (this.#closed) return
    if (this.#doneTimer !== undefined) clearTimeout(this.#doneTimer)
    this.#doneTimer = undefined
    this.#rootCallback('proxy_on_delete')
    this.#closed = true
    this.#ticks.stop()
    this.#calls.cancelAll()
    this.host.queues?.leave(this.queueReceiver)
  }

  /** A root-context lifecycle callback on a healthy instance; a throw is logged, not raised. */
  #rootCallback (name: string): number | undefined {
    if (!this.healthy || !this.exported(name)) return undefined
    this.stage = 'async'
    this.#later = true
    try {
      return this.enter(name, this.rootId)
    } catch (err) {
      // Debug only: the instance is going anyway, and some SDKs (the AssemblyScript one) trap
      // here, not expecting a host to end a root context.
      this.failed(err)
      this.host.logger.debug({ filter: this.host.filter, err }, `filter "${this.host.filter}" failed in ${name} of its root context, as its instance was closed; ignored`)
      return undefined
    } finally {
      this.endCallback()
    }
  }

  /** The paused request's phase becomes what host calls act on (its headers, bodies, local response). */
  #enterStream (paused: Paused): void {
    if (this.call.ex !== paused.ex) this.call.begin(paused.ex, paused.phase, paused.withBody)
    this.stage = paused.phase
  }

  readonly #answer = (token: number, result: CalloutResult): void => {
    const pending = this.#calls.take(token)
    if (pending === undefined) return
    if (!result.ok) {
      const err = this.error('WAFER_ERR_HTTP_CALL_FAILED', [this.host.filter, token, pending.upstream, result.reason])
      this.host.logger.warn({ filter: this.host.filter, err }, err.message)
    }
    this.callout = result.ok ? { headers: result.headers, serialized: undefined, body: result.body } : undefined
    this.#deliver('proxy_on_http_call_response', this.rootId, token, result.ok ? result.headers.length : 0, result.ok ? result.body.length : 0, 0)
  }

  /**
   * A callback outside the request's own (Envoy calls them from the event loop too): never inside
   * a host call. On a paused request's context it runs in the request's phase; afterwards a
   * closed stream, a local response or a continue settles the request, and a pause nothing can
   * resume any more fails it.
   * A trap fails the paused request, or, outside one, is logged and the instance discarded.
   */
  #deliver (name: string, context: number, a = 0, b = 0, c = 0, d = 0): void {
    if (this.#closed || !this.healthy) return
    const paused = this.pause.current
    // Only the root context, or the stream context still being served, gets a callback.
    if (context !== this.rootId && context !== this.contextId) return
    this.#later = true
    this.stage = 'async'
    this.continued = false
    if (paused !== undefined && context === paused.context) this.#enterStream(paused)
    let failure: unknown
    let response: LocalResponse | undefined
    let closed = false
    try {
      if (this.exported(name)) this.enter(name, context, a, b, c, d)
      closed = this.call.ex !== undefined && this.call.closed
      response = this.call.ex === undefined || closed ? undefined : this.call.finishRespond()
    } catch (err) {
      failure = err
      this.failed(err)
    }
    const continued = this.continued
    this.endCallback()
    if (failure !== undefined) {
      this.#brokeOutside(failure, name, paused)
      return
    }
    if (paused === undefined || this.pause.current !== paused) return
    if (closed) this.pause.close()
    else if (response !== undefined || continued) this.pause.resume(response)
    else if (!this.canResume()) this.pause.fail(this.error('WAFER_ERR_ABI_PAUSE_WITHOUT_PENDING', [this.host.filter, `${name}, after which nothing can resume the paused request`]))
  }

  #brokeOutside (err: unknown, name: string, paused: Paused | undefined): void {
    if (paused !== undefined && this.pause.current === paused) {
      // The paused request fails with it (and its failure policy applies); the pool discards the instance after.
      this.pause.fail(err)
      return
    }
    if (this.healthy) return
    this.broke = err instanceof WaferError ? err : undefined
    this.host.logger.error({ filter: this.host.filter, err }, `filter "${this.host.filter}" failed in ${name}, outside any request; its instance is discarded and replaced`)
    this.close()
    this.host.discard?.(this)
  }
}
