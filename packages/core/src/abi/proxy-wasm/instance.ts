import { describe, waferError, WaferError } from '../../errors.js'
import type { Exchange } from '../../http/exchange.js'
import { CLOSE_STREAM, CONTINUE, type Decision } from '../../http/decision.js'
import { Field, HeaderMap, type Phase } from '../../http/request-context.js'
import { fuelBudget, isMetered, prepareFuel } from '../../sandbox/budget.js'
import { trapError } from '../phase-budget.js'
import type { FilterNeeds, GuestHost } from '../types.js'
import { DeferredGlue } from './deferred.js'
import type { Stage } from './glue.js'
import { proxyImports } from './host-calls.js'
import { PROXY_BUDGET_ENTRIES } from './spec.js'
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
 * What happens outside those callbacks (a paused request, HTTP calls, ticks, queues, the end of
 * the root context) is deferred.ts's.
 */
export class ProxyWasmInstance extends DeferredGlue {
  protected readonly allocator: { name: string, fn: (size: number) => number }
  readonly #x: Record<string, Entry | undefined>
  readonly #exports: WebAssembly.Exports
  readonly #fuel: bigint | undefined
  readonly #setFuel: ((budget: bigint) => void) | undefined
  #nextContext = 2

  constructor (module: WebAssembly.Module, host: GuestHost) {
    super(host)
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
        this.enter('_initialize')
        if (x.main !== undefined) this.enter('main')
      } else if (x._start !== undefined) {
        this.enter('_start')
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
    const ok = this.enter(name, this.rootId, configuration.length)
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
      this.failed(err)
      throw err
    } finally {
      this.endCallback()
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
    if (!this.healthy) throw this.broke ?? this.error('WAFER_ERR_FILTER_TRAP', [this.host.filter, headers, 'the instance broke earlier'])
    this.pause.reset()
    this.call.begin(ex, phase, withBody)
    this.stage = phase
    this.continued = false
    try {
      let name = headers
      let action = 0
      if (this.#x[headers] !== undefined) {
        const names = this.call.headerNames(phase === 'request' ? HeaderMap.Request : HeaderMap.Response)
        // ABI 0.1.0 has no end_of_stream: the extra argument is ignored.
        action = this.enter(headers, this.contextId, typeof names === 'number' ? 0 : names.length, withBody ? 0 : endOfStream)
      }
      // proxy_close_stream wins over anything else the callback did (Envoy resets after it returns).
      if (this.call.closed) return CLOSE_STREAM
      let response = this.call.finishRespond()
      if (response !== undefined) return { respond: true, response }
      if (withBody && this.#x[body] !== undefined) {
        const bytes = this.call.field(phase === 'request' ? Field.RequestBody : Field.ResponseBody)
        name = body
        this.continued = false
        action = this.enter(body, this.contextId, typeof bytes === 'number' ? 0 : bytes.length, 1)
        if (this.call.closed) return CLOSE_STREAM
        response = this.call.finishRespond()
        if (response !== undefined) return { respond: true, response }
      }
      if (CONTINUE_ACTIONS.has(action) || this.continued) return CONTINUE
      if (this.canResume()) return this.pause.hold({ ex, phase, withBody, context: this.contextId }, `${name} (action ${action})`, this.expired)
      throw this.error('WAFER_ERR_ABI_PAUSE_WITHOUT_PENDING', [this.host.filter, `${name} (action ${action})`])
    } catch (err) {
      this.failed(err)
      throw err
    } finally {
      this.endCallback()
    }
  }

  /** The stream context ends; on an instance that broke, only the host's side of it. */
  done (ex: Exchange): void {
    const context = this.contextId
    this.endStream(ex)
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
      this.failed(err)
      throw err
    } finally {
      this.endCallback()
      this.contextId = 0
    }
  }

  /** Calls a callback the module may not export (all of them are optional). */
  #optional (name: string, a: number, b = 0): void {
    if (this.#x[name] !== undefined) this.enter(name, a, b)
  }

  protected exported (name: string): boolean {
    return this.#x[name] !== undefined
  }

  /** Calls an export; a trap (or proc_exit) becomes a coded error, a recorded fault is raised after. */
  protected enter (name: string, a = 0, b = 0, c = 0, d = 0, e = 0): number {
    const fn = this.#x[name] as Entry
    this.entry = name
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

}
