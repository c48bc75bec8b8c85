import { describe, waferError, WaferError } from '../../errors.js'
import type { Exchange } from '../../http/exchange.js'
import { CONTINUE, type Decision, type LocalResponse } from '../../http/decision.js'
import { Field, HeaderMap, type Phase } from '../../http/request-context.js'
import { fuelBudget, isMetered, prepareFuel } from '../../sandbox/budget.js'
import { trapError } from '../phase-budget.js'
import type { FilterNeeds, GuestHost, GuestInstance } from '../types.js'
import type { CalloutAnswer, Stage } from './glue.js'
import { GlueBase } from './glue-base.js'
import { Callouts, type CalloutRequest, type CalloutResult } from './http-call.js'
import { PauseState, type Paused } from './pause.js'
import type { QueueReceiver } from './queues.js'
import { Ticker } from './ticks.js'
import { proxyImports } from './host-calls.js'
import { PROXY_BUDGET_ENTRIES, Status } from './spec.js'
import { ProcExit, WASI_MODULE, WASI_UNSTABLE, wasiImports } from './wasi.js'
import { pluginConfiguration, requestEnds, vmConfiguration } from './callback-args.js'

type Entry = (a: number, b: number, c: number, d: number, e: number) => number
/** Filter actions (`proxy_action_t`, and the SDKs' FilterHeadersStatus): Continue and ContinueAndEndStream go on. */
const CONTINUE_ACTIONS = new Set([0, 2])

/**
 * One instance of a Proxy-Wasm module, with its root context (created and configured by `init`)
 * and, per request, one stream context: `begin` creates it, the phases call its headers
 * callbacks, `done` runs `proxy_on_done`, `proxy_on_log` and `proxy_on_delete`. The instance
 * stays bound to the request in between (GuestAbi#perRequest), as the guest keeps state for it.
 */
export class ProxyWasmInstance extends GlueBase implements GuestInstance {
  healthy = true
  protected readonly allocator: { name: string, fn: (size: number) => number }
  readonly #x: Record<string, Entry | undefined>
  readonly #exports: WebAssembly.Exports
  readonly #fuel: bigint | undefined
  readonly #setFuel: ((budget: bigint) => void) | undefined
  #nextContext = 2
  /** The request held paused, and its deadline (limits.timeoutMs). */
  readonly #pause: PauseState
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
  /** The context host calls act for: the callback's own, or what proxy_set_effective_context chose. */
  #effective = 0
  /** Why the instance broke outside a callback of the request it serves (a trap in a tick). */
  #broke: WaferError | undefined
  callout: CalloutAnswer | undefined
  readonly queueReceiver: QueueReceiver = {
    queueReady: (token) => { setImmediate(() => { this.#deliver('proxy_on_queue_ready', this.rootId, token) }) }
  }

  constructor (module: WebAssembly.Module, host: GuestHost) {
    super(host)
    this.#pause = new PauseState(host.filter, host.limits)
    let instance: WebAssembly.Instance
    const wasi = wasiImports({
      mem: this.mem,
      write: (fd, text) => { this.log(fd === 1 ? 2 : 4, text) },
      badPointer: (where, ptr, len) => { this.badPointer(where, ptr, len) },
      maxOutputBytes: host.limits.maxOutputBytes
    })
    try {
      instance = new WebAssembly.Instance(module, { env: proxyImports(this), [WASI_MODULE]: wasi, [WASI_UNSTABLE]: wasi })
    } catch (err) {
      throw waferError('WAFER_ERR_FILTER_INSTANTIATE', [host.filter, host.source, describe(err)], { cause: err, filter: host.filter })
    }
    const x = instance.exports as Record<string, unknown>
    this.#exports = instance.exports
    this.#x = x as Record<string, Entry | undefined>
    this.mem.attach(x.memory as WebAssembly.Memory)
    const name = typeof x.malloc === 'function' ? 'malloc' : 'proxy_on_memory_allocate'
    this.allocator = { name, fn: x[name] as (size: number) => number }
    this.#fuel = host.limits.fuel !== undefined && isMetered(instance.exports) ? fuelBudget(host.limits.fuel) : undefined
    const entries = PROXY_BUDGET_ENTRIES.filter((e) => typeof x[e] === 'function')
    this.#setFuel = this.#fuel === undefined ? undefined : prepareFuel(module, instance.exports, entries, this.#fuel)
    // A WASI reactor (_initialize, then main if it has one) or a command (_start), as the cpp-host does.
    this.stage = 'start'
    try {
      if (x._initialize !== undefined) {
        this.#enter('_initialize')
        if (x.main !== undefined) this.#enter('main')
      } else if (x._start !== undefined) {
        this.#enter('_start')
      }
    } catch (err) {
      throw waferError('WAFER_ERR_FILTER_INSTANTIATE', [host.filter, host.source, `its start function failed: ${describe(err)}`], { cause: err, filter: host.filter })
    } finally {
      this.stage = 'idle'
    }
  }

  /**
   * The root context: created, then `proxy_on_vm_start` (with an empty VM configuration) and
   * `proxy_on_configure` with the plugin configuration. A false from either fails the filter's
   * load with WAFER_ERR_FILTER_CONFIG, so a bad configuration fails startup or the reload.
   */
  init (config: Buffer): FilterNeeds {
    const plugin = pluginConfiguration(config)
    try {
      this.stage = 'create'
      this.#optional('proxy_on_context_create', this.rootId, 0)
      this.#configure('vm_start', 'proxy_on_vm_start', vmConfiguration(this.host.proxyWasm?.vmConfig))
      this.#configure('configure', 'proxy_on_configure', plugin)
    } catch (err) {
      this.healthy = false
      this.close()
      throw err
    } finally {
      this.stage = 'idle'
      this.configuration = undefined
    }
    // The body callbacks are called when the filter's proxyWasm settings ask for the bodies.
    const options = this.host.proxyWasm
    const requestBody = options?.requestBody === true && this.#x.proxy_on_request_body !== undefined
    const responseBody = options?.responseBody === true && this.#x.proxy_on_response_body !== undefined
    const response = responseBody || this.#x.proxy_on_response_headers !== undefined
    return { requestBody, responseBody, skipRequestPhase: false, skipResponsePhase: !response }
  }

  #configure (stage: Stage, name: string, configuration: Buffer): void {
    if (this.#x[name] === undefined) return
    this.stage = stage
    this.configuration = configuration
    this.lastLine = undefined
    const ok = this.#enter(name, this.rootId, configuration.length)
    if (ok !== 0) return
    const said = this.lastLine === undefined ? '' : `; its last log line: ${this.lastLine}`
    throw waferError('WAFER_ERR_FILTER_CONFIG', [this.host.filter, this.host.source, `${name} returned false${said}`], { filter: this.host.filter })
  }

  begin (ex: Exchange): void {
    this.contextId = this.#nextContext
    this.#nextContext = this.#nextContext >= 0x7fffffff ? 2 : this.#nextContext + 1
    this.call.begin(ex, 'request', false)
    this.stage = 'create'
    try {
      this.#optional('proxy_on_context_create', this.contextId, this.rootId)
    } catch (err) {
      this.#fail(err)
      throw err
    } finally {
      this.#reset()
    }
  }

  onRequest (ex: Exchange, withBody: boolean): Decision | Promise<Decision> {
    return this.#phase(ex, 'request', withBody, requestEnds(ex) ? 1 : 0)
  }

  onResponse (ex: Exchange, withBody: boolean): Decision | Promise<Decision> {
    return this.#phase(ex, 'response', withBody, 0)
  }

  /**
   * One phase: the headers callback, then, when the filter asked for the body, the body callback
   * with all of it (`end_of_stream` 1). A headers callback that pauses until the body is there
   * (Envoy's StopIteration, how filters ask to buffer it) goes on to the body callback; a pause
   * after that, with nothing that could resume the request, is an error.
   */
  #phase (ex: Exchange, phase: Phase, withBody: boolean, endOfStream: number): Decision | Promise<Decision> {
    const headers = phase === 'request' ? 'proxy_on_request_headers' : 'proxy_on_response_headers'
    const body = phase === 'request' ? 'proxy_on_request_body' : 'proxy_on_response_body'
    if (!this.healthy) throw this.#broke ?? this.error('WAFER_ERR_FILTER_TRAP', [this.host.filter, headers, 'the instance broke earlier'])
    this.#pause.reset()
    this.call.begin(ex, phase, withBody)
    this.stage = phase
    this.continued = false
    try {
      let name = headers
      let action = 0
      if (this.#x[headers] !== undefined) {
        const names = this.call.headerNames(phase === 'request' ? HeaderMap.Request : HeaderMap.Response)
        // ABI 0.1.0 has no end_of_stream: the extra argument is ignored.
        action = this.#enter(headers, this.contextId, typeof names === 'number' ? 0 : names.length, withBody ? 0 : endOfStream)
      }
      let response = this.call.finishRespond()
      if (response !== undefined) return { respond: true, response }
      if (withBody && this.#x[body] !== undefined) {
        const bytes = this.call.field(phase === 'request' ? Field.RequestBody : Field.ResponseBody)
        name = body
        this.continued = false
        action = this.#enter(body, this.contextId, typeof bytes === 'number' ? 0 : bytes.length, 1)
        response = this.call.finishRespond()
        if (response !== undefined) return { respond: true, response }
      }
      if (CONTINUE_ACTIONS.has(action) || this.continued) return CONTINUE
      if (this.#canResume()) return this.#pause.hold({ ex, phase, withBody, context: this.contextId }, `${name} (action ${action})`, this.#expired)
      throw this.error('WAFER_ERR_ABI_PAUSE_WITHOUT_PENDING', [this.host.filter, `${name} (action ${action})`])
    } catch (err) {
      this.#fail(err)
      throw err
    } finally {
      this.#reset()
    }
  }

  /** The stream context ends; on an instance that broke, only the host's side of it. */
  done (ex: Exchange): void {
    const context = this.contextId
    this.#calls.cancelContext(context)
    this.#pause.drop(ex)
    if (!this.healthy || context === 0) {
      this.contextId = 0
      return
    }
    this.call.begin(ex, 'response', false)
    this.stage = 'log'
    try {
      // A request's proxy_on_done result is not used (Envoy does not wait for a stream context
      // either); only a root context's false waits for proxy_done (close).
      for (const name of ['proxy_on_done', 'proxy_on_log', 'proxy_on_delete']) {
        this.#optional(name, context)
      }
    } catch (err) {
      this.#fail(err)
      throw err
    } finally {
      this.#reset()
      this.contextId = 0
    }
  }

  /** The client went away while the request waits paused: it settles now, the guest is not entered. */
  abort (ex: Exchange): void {
    this.#pause.abort(ex)
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
    if (this.#pause.current !== undefined) this.#pause.fail(this.error('WAFER_ERR_FILTER_CLOSED', [this.host.filter]))
    if (this.#rootCallback('proxy_on_done') === 0 && this.healthy && this.#canResume()) {
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
    if (!this.healthy || this.#x[name] === undefined) return undefined
    this.stage = 'async'
    this.#later = true
    try {
      return this.#enter(name, this.rootId)
    } catch (err) {
      // Debug only: the instance is going anyway, and some SDKs (the AssemblyScript one) trap
      // here, not expecting a host to end a root context.
      this.#fail(err)
      this.host.logger.debug({ filter: this.host.filter, err }, `filter "${this.host.filter}" failed in ${name} of its root context, as its instance was closed; ignored`)
      return undefined
    } finally {
      this.#reset()
    }
  }

  /** The host call checked `id`: the root context or the request's. */
  setEffectiveContext (id: number): Status {
    this.#effective = id
    if (this.#later) {
      // In a tick, a queue or an HTTP answer, a paused request is reachable through its context.
      const paused = this.#pause.current
      if (paused !== undefined && id === paused.context) this.#enterStream(paused)
      else this.stage = 'async'
    }
    return Status.Ok
  }

  startCall (request: CalloutRequest, body: Buffer, timeoutMs: number): number | undefined {
    if (this.#closed) return undefined
    const context = this.#effective === 0 ? this.rootId : this.#effective
    return this.#calls.start(context, request, body, timeoutMs, this.host.limits.maxOutputBytes, this.#answer)
  }

  setTickPeriod (ms: number): void {
    // A module without proxy_on_tick gets no timer (nothing would resume a pause on it).
    this.#ticks.set(this.#closed || this.#x.proxy_on_tick === undefined ? 0 : ms)
  }

  /** Whether something outstanding could still call the guest back and resume a paused request. */
  #canResume (): boolean {
    return this.#calls.size > 0 || this.#ticks.active || (this.host.queues?.receives(this.queueReceiver) ?? false)
  }

  /**
   * A paused request reached its deadline: the guest still holds it as paused, so the instance
   * is discarded (as a native filter's), and nothing it does later reaches the request.
   */
  readonly #expired = (): void => {
    this.healthy = false
    this.close()
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
    this.#deliver('proxy_on_http_call_response', pending.context, token, result.ok ? result.headers.length : 0, result.ok ? result.body.length : 0, 0)
  }

  /**
   * A callback outside the request's own (Envoy calls them from the event loop too): never inside
   * a host call. On a paused request's context it runs in the request's phase; afterwards a local
   * response or a continue settles the request, and a pause nothing can resume any more fails it.
   * A trap fails the paused request, or, outside one, is logged and the instance discarded.
   */
  #deliver (name: string, context: number, a = 0, b = 0, c = 0, d = 0): void {
    if (this.#closed || !this.healthy) return
    const paused = this.#pause.current
    // Only the root context, or the stream context still being served, gets a callback.
    if (context !== this.rootId && context !== this.contextId) return
    this.#later = true
    this.stage = 'async'
    this.continued = false
    if (paused !== undefined && context === paused.context) this.#enterStream(paused)
    let failure: unknown
    let response: LocalResponse | undefined
    try {
      if (this.#x[name] !== undefined) this.#enter(name, context, a, b, c, d)
      response = this.call.ex === undefined ? undefined : this.call.finishRespond()
    } catch (err) {
      failure = err
      this.#fail(err)
    }
    const continued = this.continued
    this.#reset()
    if (failure !== undefined) {
      this.#brokeOutside(failure, name, paused)
      return
    }
    if (paused === undefined || this.#pause.current !== paused) return
    if (response !== undefined || continued) this.#pause.resume(response)
    else if (!this.#canResume()) this.#pause.fail(this.error('WAFER_ERR_ABI_PAUSE_WITHOUT_PENDING', [this.host.filter, `${name}, after which nothing can resume the paused request`]))
  }

  #brokeOutside (err: unknown, name: string, paused: Paused | undefined): void {
    if (paused !== undefined && this.#pause.current === paused) {
      // The paused request fails with it (and its failure policy applies); the pool discards the instance after.
      this.#pause.fail(err)
      return
    }
    if (this.healthy) return
    this.#broke = err instanceof WaferError ? err : undefined
    this.host.logger.error({ filter: this.host.filter, err }, `filter "${this.host.filter}" failed in ${name}, outside any request; its instance is discarded and replaced`)
    this.close()
    this.host.discard?.(this)
  }

  /** Calls a callback the module may not export (all of them are optional). */
  #optional (name: string, a: number, b = 0): void {
    if (this.#x[name] !== undefined) this.#enter(name, a, b)
  }

  /** Calls an export; a trap (or proc_exit) becomes a coded error, a recorded fault is raised after. */
  #enter (name: string, a = 0, b = 0, c = 0, d = 0, e = 0): number {
    const fn = this.#x[name] as Entry
    this.entry = name
    // Every callback's first argument is the context it is for (0 for _initialize and the like).
    this.#effective = a
    if (this.#setFuel !== undefined && PROXY_BUDGET_ENTRIES.includes(name)) this.#setFuel(this.#fuel as bigint)
    let result: number
    try {
      result = fn(a, b, c, d, e)
    } catch (err) {
      throw this.trap(err, name)
    }
    const fault = this.fault
    if (fault !== undefined) throw fault
    return result
  }

  protected trap (err: unknown, where: string): WaferError {
    if (this.fault !== undefined) return this.fault
    if (err instanceof ProcExit) return waferError('WAFER_ERR_FILTER_TRAP', [this.host.filter, where, err.message], { cause: err, filter: this.host.filter })
    return trapError(err, this.host.filter, where, this.host.limits, this.#fuel === undefined ? undefined : this.#exports, this.mem.byteLength())
  }

  #fail (err: unknown): void {
    if (!(err instanceof WaferError && err.code === 'WAFER_ERR_STATE')) this.healthy = false
  }

  #reset (): void {
    this.call.end()
    this.stage = 'idle'
    this.fault = undefined
    this.entry = ''
    this.#later = false
    this.callout = undefined
  }
}
