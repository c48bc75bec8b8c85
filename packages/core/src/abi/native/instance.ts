import { isUtf8 } from 'node:buffer'
import { describe, waferError, WaferError } from '../../errors.js'
import type { Exchange } from '../../http/exchange.js'
import { CONTINUE, type Decision } from '../../http/decision.js'
import { Field, FilterCall, INVALID, type Phase } from '../../http/request-context.js'
import { fuelBudget, isMetered, prepareFuel } from '../../sandbox/budget.js'
import { PendingOps, type PendingOp } from '../pending-ops.js'
import { PhaseBudget, trapError } from '../phase-budget.js'
import type { FilterNeeds, GuestHost, GuestInstance } from '../types.js'
import { GuestMemory } from '../guest-memory.js'
import { NATIVE_BUDGET_ENTRIES } from './spec.js'
import { Code } from './codes.js'
import { kvImports, type KvImportContext } from './kv-imports.js'
import { fillRandom } from '../random-bytes.js'

/** Action codes, docs/abi.md section 2. */
const enum Action { Continue = 0, Respond = 1, Pause = 2 }
/** `wafer_init` result bits. */
const enum Needs { RequestBody = 1, ResponseBody = 2, SkipRequestPhase = 4, SkipResponsePhase = 8 }

const LEVELS = ['trace', 'debug', 'info', 'warn', 'error'] as const
const MAX_RANDOM = 64 * 1024

type Entry = () => number
type Resume = (token: number) => number
/** Any entry point, called with one argument (an export ignores arguments it does not declare). */
type Caller = (arg: number) => number

/**
 * One instance of a native-ABI module (version 2). Every import checks its pointers, calls one method of
 * the request context (`FilterCall`) or the store, and returns a result code; it never throws
 * into the guest and never calls back into it. A fault found inside an import (a bad pointer, a
 * refused write) is kept and raised when the entry point returns.
 */
export class NativeInstance implements GuestInstance {
  healthy = true
  readonly #host: GuestHost
  readonly #mem: GuestMemory
  readonly #call = new FilterCall()
  readonly #exports: WebAssembly.Exports
  readonly #init: ((configLen: number) => number) | undefined
  readonly #onRequest: Entry | undefined
  readonly #onResponse: Entry | undefined
  readonly #onResume: Resume | undefined
  readonly #fuel: bigint | undefined
  /** Called before each budget entry; undefined when they start the budget themselves (or unmetered). */
  readonly #setFuel: ((budget: bigint) => void) | undefined

  #entry = ''
  #fault: WaferError | undefined
  #config: Buffer | undefined
  #rejection: string | undefined
  readonly #pending = new PendingOps()
  /** Resumes, operations and the deadline of the phase in progress; fuel is set when it starts. */
  readonly #budget: PhaseBudget

  constructor (module: WebAssembly.Module, host: GuestHost) {
    this.#host = host
    this.#budget = new PhaseBudget(host.filter, host.limits)
    let instance: WebAssembly.Instance
    this.#mem = new GuestMemory()
    try {
      instance = new WebAssembly.Instance(module, { wafer: this.#imports() })
    } catch (err) {
      const reason = err instanceof WebAssembly.RuntimeError ? `its start function trapped: ${describe(err)}` : describe(err)
      throw waferError('WAFER_ERR_FILTER_INSTANTIATE', [host.filter, host.source, reason], { cause: err, filter: host.filter })
    }
    const x = instance.exports as Record<string, unknown>
    this.#exports = instance.exports
    this.#mem.attach(x.memory as WebAssembly.Memory)
    this.#fuel = host.limits.fuel !== undefined && isMetered(instance.exports) ? fuelBudget(host.limits.fuel) : undefined
    this.#setFuel = this.#fuel === undefined ? undefined : prepareFuel(module, instance.exports, NATIVE_BUDGET_ENTRIES, this.#fuel)
    this.#init = x.wafer_init as ((configLen: number) => number) | undefined
    this.#onRequest = x.wafer_on_request as Entry | undefined
    this.#onResponse = x.wafer_on_response as Entry | undefined
    this.#onResume = x.wafer_on_resume as Resume | undefined
    const start = (x._initialize ?? x._start) as (() => void) | undefined
    if (start !== undefined) {
      try {
        this.#setFuel?.(this.#fuel as bigint)
        start()
      } catch (err) {
        throw waferError('WAFER_ERR_FILTER_INSTANTIATE', [host.filter, host.source, `its start function trapped: ${describe(err)}`], { cause: err, filter: host.filter })
      }
    }
  }

  init (config: Buffer): FilterNeeds {
    const init = this.#init
    if (init === undefined) return { requestBody: false, responseBody: false, skipRequestPhase: false, skipResponsePhase: false }
    this.#entry = 'wafer_init'
    this.#config = config
    let flags: number
    try {
      this.#setFuel?.(this.#fuel as bigint)
      flags = this.#guest(init, config.length)
      this.#raiseFault()
    } catch (err) {
      this.healthy = false
      throw err
    } finally {
      this.#config = undefined
      this.#fault = undefined
    }
    const message = this.#rejection
    this.#rejection = undefined
    if (flags < 0) {
      const reason = message !== undefined && message !== '' ? message : `wafer_init returned ${flags} without calling init_reject`
      throw waferError('WAFER_ERR_FILTER_CONFIG', [this.#host.filter, this.#host.source, reason], { filter: this.#host.filter })
    }
    return {
      requestBody: (flags & Needs.RequestBody) !== 0,
      responseBody: (flags & Needs.ResponseBody) !== 0,
      skipRequestPhase: (flags & Needs.SkipRequestPhase) !== 0,
      skipResponsePhase: (flags & Needs.SkipResponsePhase) !== 0
    }
  }

  onRequest (ex: Exchange, withBody: boolean): Decision | Promise<Decision> {
    const fn = this.#onRequest
    return fn === undefined ? CONTINUE : this.#run(ex, 'request', 'wafer_on_request', fn, withBody)
  }

  onResponse (ex: Exchange, withBody: boolean): Decision | Promise<Decision> {
    const fn = this.#onResponse
    return fn === undefined ? CONTINUE : this.#run(ex, 'response', 'wafer_on_response', fn, withBody)
  }

  #run (ex: Exchange, phase: Phase, entry: string, fn: Entry, withBody: boolean): Decision | Promise<Decision> {
    this.#call.begin(ex, phase, withBody)
    this.#entry = entry
    try {
      // One fuel budget for the whole phase, the entry and every resume: set here, or started by the entry itself.
      this.#setFuel?.(this.#fuel as bigint)
      return this.#settle(this.#guest(fn as unknown as Caller, 0))
    } catch (err) {
      this.#fail(err)
      throw err
    }
  }

  /** Drives PAUSE/resume; goes async only for results that are really still on their way. */
  #settle (action: number): Decision | Promise<Decision> {
    for (;;) {
      this.#raiseFault()
      if (action !== Action.Pause) {
        const decision = this.#finish(action)
        this.#reset()
        return decision
      }
      const op = this.#pending.next()
      if (op === undefined) throw this.#error('WAFER_ERR_ABI_PAUSE_WITHOUT_PENDING', [this.#host.filter, this.#entry])
      if (op.promise !== undefined) return this.#settleLater(op)
      action = this.#resume(op)
    }
  }

  async #settleLater (op: PendingOp): Promise<Decision> {
    try {
      await this.#budget.wait(op.promise as Promise<void>, op.name)
      return this.#settle(this.#resume(op))
    } catch (err) {
      this.#fail(err)
      throw err
    }
  }

  #resume (op: PendingOp): number {
    this.#entry = 'wafer_on_resume'
    this.#budget.resume()
    if (op.error !== undefined) {
      throw waferError('WAFER_ERR_STATE', [op.name, this.#host.filter, describe(op.error)], { cause: op.error, filter: this.#host.filter })
    }
    op.deliver()
    return this.#guest(this.#onResume as unknown as Caller, op.token)
  }

  #finish (action: number): Decision {
    if (action === Action.Continue) return CONTINUE
    if (action !== Action.Respond) throw this.#error('WAFER_ERR_ABI_BAD_ACTION', [this.#host.filter, action, this.#entry])
    const response = this.#call.finishRespond()
    if (response === undefined) throw this.#error('WAFER_ERR_ABI_BAD_OUTPUT', [this.#host.filter, this.#entry, 'it returned respond (1) without calling respond()'])
    return { respond: true, response }
  }

  /**
   * Calls into the guest on the fuel left in the current phase's budget; any throw from guest
   * code is a trap and ends this instance. Traps are told apart: out of fuel, at the memory
   * limit, or anything else.
   */
  #guest (fn: Caller, arg: number): number {
    try {
      return fn(arg)
    } catch (err) {
      throw trapError(err, this.#host.filter, this.#entry, this.#host.limits, this.#fuel === undefined ? undefined : this.#exports, this.#mem.byteLength())
    }
  }

  /** Records a fault to raise when the entry returns, and gives the guest its code. */
  #faulted (code: Code, error: WaferError): number {
    this.#fault ??= error
    return code
  }

  #badPointer (where: string, ptr: number, len: number): number {
    return this.#faulted(Code.BadPointer, this.#error('WAFER_ERR_ABI_BAD_POINTER', [this.#host.filter, where, `[${ptr >>> 0}, ${(ptr >>> 0) + (len >>> 0)}) is outside its ${this.#mem.byteLength()}-byte memory`]))
  }

  #invalid (where: string, problem: string): number {
    return this.#faulted(Code.Invalid, this.#error('WAFER_ERR_ABI_BAD_OUTPUT', [this.#host.filter, this.#entry, `${where}: ${problem}`]))
  }

  #badArgument (where: string, problem: string): number {
    return this.#faulted(Code.BadArgument, this.#error('WAFER_ERR_ABI_BAD_OUTPUT', [this.#host.filter, this.#entry, `${where}: ${problem}`]))
  }

  /** Whether a write of `len` bytes is over `limits.maxOutputBytes` (then the call fails, nothing is read). */
  #tooLarge (where: string, len: number): boolean {
    const max = this.#host.limits.maxOutputBytes
    if (len >>> 0 <= max) return false
    this.#faulted(Code.TooLarge, this.#error('WAFER_ERR_ABI_BAD_OUTPUT', [this.#host.filter, this.#entry, `${where}: a write of ${len >>> 0} bytes exceeds limits.maxOutputBytes (${max})`]))
    return true
  }

  /** A context outcome as a result code; a refusal fails the call. */
  #outcome (where: string, result: number): number {
    return result === INVALID ? this.#invalid(where, this.#call.problem) : result
  }

  #imports (): WebAssembly.ModuleImports {
    const host = this.#host
    const mem = this.#mem
    const call = this.#call
    const active = (): boolean => call.ex !== undefined
    /** For reads: a name that is not a token names no header (-4), as a missing one does. */
    const readName = (ptr: number, len: number, where: string): string | number => {
      if (!mem.inBounds(ptr, len)) return this.#badPointer(where, ptr, len)
      return mem.headerName(ptr, len) ?? Code.NotFound
    }
    /** Writes text or bytes for a read; the full length either way. */
    const give = (value: string | Uint8Array, buf: number, cap: number, where: string): number => {
      if (!mem.inBounds(buf, cap)) return this.#badPointer(where, buf, cap)
      return typeof value === 'string' ? mem.writeLatin1(value, buf, cap) : mem.writeBytes(value, buf, cap)
    }

    const kvContext: KvImportContext = {
      mem,
      host,
      active,
      badPointer: (where, ptr, len) => this.#badPointer(where, ptr, len),
      startOp: (name) => {
        const over = this.#budget.startOp(name)
        return over === undefined ? undefined : this.#faulted(Code.OverBudget, over)
      },
      failed: (name, err) => this.#faulted(Code.Ok, waferError('WAFER_ERR_STATE', [name, host.filter, describe(err)], { cause: err, filter: host.filter })),
      later: (name, promise, deliver) => this.#pending.add(name, promise, deliver)
    }

    return {
      config_read: (buf: number, cap: number): number => {
        if (!mem.inBounds(buf, cap)) return this.#badPointer('config_read', buf, cap)
        const config = this.#config
        return config === undefined ? Code.Unavailable : give(config, buf, cap, 'config_read')
      },
      init_reject: (ptr: number, len: number): number => {
        if (!mem.inBounds(ptr, len)) return this.#badPointer('init_reject', ptr, len)
        this.#rejection = mem.utf8(ptr, len)
        return Code.Ok
      },
      get: (field: number, buf: number, cap: number): number => {
        if (!mem.inBounds(buf, cap)) return this.#badPointer('get', buf, cap)
        if (!active()) return Code.Unavailable
        const value = call.field(field)
        if (typeof value === 'number') return field >= 0 && field <= Field.ResponseBody ? value : this.#badArgument('get', `unknown field ${field}`)
        return give(value, buf, cap, 'get')
      },
      set: (field: number, ptr: number, len: number): number => {
        if (!active()) return Code.Unavailable
        if (!mem.inBounds(ptr, len)) return this.#badPointer('set', ptr, len)
        if (this.#tooLarge('set', len)) return Code.TooLarge
        switch (field) {
          case Field.Path: return this.#outcome('set(PATH)', call.setPath(mem.latin1(ptr, len)))
          case Field.Query: return this.#outcome('set(QUERY)', call.setQuery(mem.latin1(ptr, len)))
          case Field.RequestBody:
          case Field.ResponseBody: return call.setBody(field, mem.copy(ptr, len))
          default: return this.#badArgument('set', `field ${field} cannot be set`)
        }
      },
      status_get: (): number => active() ? call.status() : Code.Unavailable,
      status_set: (status: number): number => {
        if (!active()) return Code.Unavailable
        if (status < 200 || status > 599) return this.#badArgument('status_set', `a status must be 200..599, got ${status}`)
        return call.setStatus(status)
      },
      header_get: (map: number, np: number, nl: number, buf: number, cap: number): number => {
        if (!active()) return Code.Unavailable
        const n = readName(np, nl, 'header_get')
        if (typeof n === 'number') return n
        if (!mem.inBounds(buf, cap)) return this.#badPointer('header_get', buf, cap)
        const value = call.header(map, n)
        return typeof value === 'number' ? this.#mapOutcome(map, value) : give(value, buf, cap, 'header_get')
      },
      header_values: (map: number, np: number, nl: number, buf: number, cap: number): number => {
        if (!active()) return Code.Unavailable
        const n = readName(np, nl, 'header_values')
        if (typeof n === 'number') return n
        if (!mem.inBounds(buf, cap)) return this.#badPointer('header_values', buf, cap)
        const values = call.headerValues(map, n)
        return typeof values === 'number' ? this.#mapOutcome(map, values) : give(`${values.join('\0')}\0`, buf, cap, 'header_values')
      },
      header_names: (map: number, buf: number, cap: number): number => {
        if (!mem.inBounds(buf, cap)) return this.#badPointer('header_names', buf, cap)
        if (!active()) return Code.Unavailable
        const names = call.headerNames(map)
        if (typeof names === 'number') return this.#mapOutcome(map, names)
        return give(names.length === 0 ? '' : `${names.join('\0')}\0`, buf, cap, 'header_names')
      },
      header_set: (map: number, np: number, nl: number, vp: number, vl: number): number => this.#setHeader(map, np, nl, vp, vl, false),
      header_add: (map: number, np: number, nl: number, vp: number, vl: number): number => this.#setHeader(map, np, nl, vp, vl, true),
      header_remove: (map: number, np: number, nl: number): number => {
        if (!active()) return Code.Unavailable
        const n = readName(np, nl, 'header_remove')
        if (typeof n === 'number') return n
        return this.#mapOutcome(map, call.removeHeader(map, n))
      },
      respond: (status: number, bp: number, bl: number): number => {
        if (!active()) return Code.Unavailable
        if (status < 200 || status > 599) return this.#badArgument('respond', `a status must be 200..599, got ${status}`)
        if (!mem.inBounds(bp, bl)) return this.#badPointer('respond', bp, bl)
        if (this.#tooLarge('respond', bl)) return Code.TooLarge
        const body = mem.view().subarray(bp >>> 0, (bp >>> 0) + (bl >>> 0))
        if (!isUtf8(body)) return this.#invalid('respond', 'the body is not valid UTF-8')
        call.respond(status, body.toString('utf8'))
        return Code.Ok
      },
      log: (level: number, ptr: number, len: number): number => {
        if (!mem.inBounds(ptr, len)) return this.#badPointer('log', ptr, len)
        const logger = call.ex?.log ?? host.logger
        logger[LEVELS[level] ?? 'info']({ filter: host.filter }, mem.utf8(ptr, len))
        return Code.Ok
      },
      now_ms: (): number => Date.now(),
      random_fill: (ptr: number, len: number): number => {
        if (len >>> 0 > MAX_RANDOM) return Code.TooLarge
        if (!mem.inBounds(ptr, len)) return this.#badPointer('random_fill', ptr, len)
        fillRandom(mem.view(), ptr >>> 0, len >>> 0)
        return Code.Ok
      },
      ...kvImports(kvContext)
    }
  }

  /** A header name from guest memory (cached, lower-cased), or a result code. */
  #name (ptr: number, len: number, where: string): string | number {
    const mem = this.#mem
    if (!mem.inBounds(ptr, len)) return this.#badPointer(where, ptr, len)
    const n = mem.headerName(ptr, len)
    return n === undefined ? this.#invalid(where, `header name ${JSON.stringify(mem.latin1(ptr, len))} is not an HTTP token`) : n
  }

  #setHeader (map: number, np: number, nl: number, vp: number, vl: number, add: boolean): number {
    const where = add ? 'header_add' : 'header_set'
    if (this.#call.ex === undefined) return Code.Unavailable
    const n = this.#name(np, nl, where)
    if (typeof n === 'number') return n
    if (!this.#mem.inBounds(vp, vl)) return this.#badPointer(where, vp, vl)
    if (this.#tooLarge(where, vl)) return Code.TooLarge
    // Checked while decoded; a value that fails goes to the context as is, which says why.
    const value = this.#mem.fieldValue(vp, vl)
    return this.#mapOutcome(map, this.#outcome(where, this.#call.setHeader(map, n, value ?? this.#mem.latin1(vp, vl), add, value !== undefined)))
  }

  /** An unknown map id is the guest's bug; UNAVAILABLE for a known map in the wrong phase. */
  #mapOutcome (map: number, result: number): number {
    if (result === Code.Unavailable && (map < 0 || map > 3)) return this.#badArgument('header map', `unknown map ${map}`)
    return result
  }

  #raiseFault (): void {
    const fault = this.#fault
    if (fault !== undefined) throw fault
  }

  #error (code: ConstructorParameters<typeof WaferError>[0], args: unknown[], cause?: unknown): WaferError {
    return waferError(code, args, cause === undefined ? { filter: this.#host.filter } : { cause, filter: this.#host.filter })
  }

  #fail (err: unknown): void {
    this.#reset()
    // A store failure leaves the guest consistent; a trap or an ABI violation may not.
    if (!(err instanceof WaferError && err.code === 'WAFER_ERR_STATE')) this.healthy = false
  }

  #reset (): void {
    this.#call.end()
    this.#fault = undefined
    this.#pending.clear()
    this.#budget.reset()
  }
}
