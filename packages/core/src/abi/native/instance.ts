import { isUtf8 } from 'node:buffer'
import { randomFillSync } from 'node:crypto'
import { describe, waferError, WaferError } from '../../errors.js'
import type { Exchange } from '../../http/exchange.js'
import {
  applyRequestPatch, applyResponsePatch, CONTINUE, OutputError, parseLocalResponse, replaceResponse, type Decision
} from '../../http/patch.js'
import type { FilterNeeds, GuestHost, GuestInstance } from '../types.js'
import { fuelBudget, fuelSetter, isMetered } from '../../sandbox/budget.js'
import { PhaseBudget, trapError } from '../phase-budget.js'
import { startOp, type Op, type OpResult } from './ops.js'

/** Action codes, docs/abi.md section 5. */
const enum Action { Continue = 0, Respond = 1, Pause = 2 }
/** `wafer_init` result bits, docs/abi.md section 4. Unknown bits are ignored. */
const enum Needs { RequestBody = 1, ResponseBody = 2, SkipRequestPhase = 4, SkipResponsePhase = 8 }
/** Import result codes, docs/abi.md section 7. */
const enum Result { Ok = 0, BadPointer = -1, TooLarge = -2, NoRequest = -3 }

const LEVELS = ['trace', 'debug', 'info', 'warn', 'error'] as const
const MAX_KEY = 512
const MAX_VALUE = 64 * 1024
const MAX_RANDOM = 64 * 1024

type Entry = (ptr: number, len: number) => number
type Resume = (token: number, status: number, ptr: number, len: number) => number
type Phase = 'request' | 'response'

/**
 * One instance of a native-ABI module. Each import checks its pointers, reads or writes guest
 * memory, records what the current call needs and returns a result code: it never throws into
 * the guest. Faults found inside an import are kept in `#fault` and raised when the call returns.
 */
export class NativeInstance implements GuestInstance {
  healthy = true
  readonly #host: GuestHost
  readonly #memory: WebAssembly.Memory
  /** A Buffer over guest memory; replaced when `memory.grow` detaches the old ArrayBuffer. */
  #view: Buffer
  readonly #alloc: (size: number) => number
  readonly #init: Entry | undefined
  readonly #onRequest: Entry | undefined
  readonly #onResponse: Entry | undefined
  readonly #onResume: Resume | undefined
  readonly #exports: WebAssembly.Exports
  /** The per-call fuel budget, when the module was instrumented for it. */
  readonly #fuel: bigint | undefined
  /** The module's `wafer_fuel_set`, when metered. */
  readonly #setFuel: ((budget: bigint) => void) | undefined

  // State of the call in progress. A paused request keeps it until it completes.
  #ex: Exchange | undefined
  #entry = ''
  /** The last `output` of this call, decoded: the guest may reuse its bytes as soon as the import returns. */
  #output: string | undefined
  #fault: WaferError | undefined
  #pending: Op[] = []
  #nextToken = 1
  /** Resumes, operations and the deadline of the phase in progress; fuel is set when it starts. */
  readonly #budget: PhaseBudget

  constructor (module: WebAssembly.Module, host: GuestHost) {
    this.#host = host
    this.#budget = new PhaseBudget(host.filter, host.limits)
    let instance: WebAssembly.Instance
    try {
      instance = new WebAssembly.Instance(module, { wafer: this.#imports() })
    } catch (err) {
      // A RuntimeError here comes from the module's (start) function; anything else is linking.
      const reason = err instanceof WebAssembly.RuntimeError ? `its start function trapped: ${describe(err)}` : describe(err)
      throw waferError('WAFER_ERR_FILTER_INSTANTIATE', [host.filter, host.source, reason], { cause: err, filter: host.filter })
    }
    const x = instance.exports as Record<string, unknown>
    this.#exports = instance.exports
    this.#fuel = host.limits.fuel !== undefined && isMetered(instance.exports) ? fuelBudget(host.limits.fuel) : undefined
    this.#setFuel = this.#fuel === undefined ? undefined : fuelSetter(instance.exports)
    this.#memory = x.memory as WebAssembly.Memory
    this.#view = Buffer.from(this.#memory.buffer)
    this.#alloc = x.wafer_alloc as (size: number) => number
    this.#init = x.wafer_init as Entry | undefined
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
    if (this.#init === undefined) return { requestBody: false, responseBody: false, skipRequestPhase: false, skipResponsePhase: false }
    this.#entry = 'wafer_init'
    let flags: number
    try {
      this.#setFuel?.(this.#fuel as bigint)
      const ptr = this.#write(config)
      flags = this.#call(this.#init, ptr, config.length)
      this.#raiseFault()
    } catch (err) {
      this.#reset()
      this.healthy = false
      throw err
    }
    const message = this.#output
    this.#reset()
    if (flags < 0) {
      const reason = message !== undefined && message !== '' ? message : `wafer_init returned ${flags} without a message`
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
    if (fn === undefined) return CONTINUE
    return this.#run(ex, 'request', 'wafer_on_request', fn, ex.requestInput(withBody), withBody)
  }

  onResponse (ex: Exchange, withBody: boolean): Decision | Promise<Decision> {
    const fn = this.#onResponse
    if (fn === undefined) return CONTINUE
    return this.#run(ex, 'response', 'wafer_on_response', fn, ex.responseInput(withBody), withBody)
  }

  #run (ex: Exchange, phase: Phase, entry: string, fn: Entry, input: Buffer, withBody: boolean): Decision | Promise<Decision> {
    this.#ex = ex
    this.#entry = entry
    try {
      // One fuel budget for the whole phase: the input's allocation, the entry and every resume.
      this.#setFuel?.(this.#fuel as bigint)
      const ptr = this.#write(input)
      const action = this.#call(fn, ptr, input.length)
      return this.#settle(action, phase, withBody)
    } catch (err) {
      this.#fail(err)
      throw err
    }
  }

  /** Drives PAUSE/resume synchronously while results are at hand; goes async only for real I/O. */
  #settle (action: number, phase: Phase, withBody: boolean): Decision | Promise<Decision> {
    for (;;) {
      this.#raiseFault()
      if (action !== Action.Pause) {
        const decision = this.#finish(action, phase, withBody)
        this.#reset()
        return decision
      }
      const op = this.#pending.shift()
      if (op === undefined) throw this.#error('WAFER_ERR_ABI_PAUSE_WITHOUT_PENDING', [this.#host.filter, this.#entry])
      if (op.promise !== undefined) return this.#settleLater(op, phase, withBody)
      action = this.#resume(op)
    }
  }

  async #settleLater (op: Op, phase: Phase, withBody: boolean): Promise<Decision> {
    try {
      // The deadline covers the phase from its first wait: every later wait gets what is left.
      await this.#budget.wait(op.promise as Promise<void>, op.name)
      return this.#settle(this.#resume(op), phase, withBody)
    } catch (err) {
      this.#fail(err)
      throw err
    }
  }

  #resume (op: Op): number {
    this.#entry = 'wafer_on_resume'
    this.#budget.resume()
    if (op.error !== undefined) {
      throw waferError('WAFER_ERR_STATE', [op.name, this.#host.filter, describe(op.error)], { cause: op.error, filter: this.#host.filter })
    }
    const { status, data } = op.result as OpResult
    const ptr = data === undefined ? 0 : this.#write(data)
    const len = data === undefined ? 0 : data.length
    return this.#call(this.#onResume as Resume, op.token, status, ptr, len)
  }

  #finish (action: number, phase: Phase, withBody: boolean): Decision {
    const output = this.#output
    if (action !== Action.Continue && action !== Action.Respond) {
      throw this.#error('WAFER_ERR_ABI_BAD_ACTION', [this.#host.filter, action, this.#entry])
    }
    const ex = this.#ex as Exchange
    if (action === Action.Continue && output === undefined) return CONTINUE
    if (output === undefined) throw this.#error('WAFER_ERR_ABI_BAD_OUTPUT', [this.#host.filter, this.#entry, 'it returned respond (1) without calling output'])
    let value: unknown
    try {
      value = JSON.parse(output)
    } catch (err) {
      throw this.#error('WAFER_ERR_ABI_BAD_OUTPUT', [this.#host.filter, this.#entry, `output is not valid JSON (${describe(err)})`])
    }
    try {
      if (action === Action.Continue) {
        if (phase === 'request') applyRequestPatch(ex, value, withBody)
        else applyResponsePatch(ex, value, withBody)
        return CONTINUE
      }
      const response = parseLocalResponse(value)
      if (phase === 'response') replaceResponse(ex, response)
      return { respond: true, response }
    } catch (err) {
      if (err instanceof OutputError) throw this.#error('WAFER_ERR_ABI_BAD_OUTPUT', [this.#host.filter, this.#entry, err.message])
      throw err
    }
  }

  /**
   * Calls into the guest on the fuel left in the current phase's budget (set when the phase
   * starts); any throw from guest code is a trap and ends this instance. Traps are told apart:
   * out of fuel, at the memory limit, or anything else.
   */
  #call (fn: (a: number, b: number, c: number, d: number) => number, a = 0, b = 0, c = 0, d = 0): number {
    try {
      // No closure per call: the export takes the arguments it declares and ignores the rest.
      return fn(a, b, c, d)
    } catch (err) {
      throw trapError(err, this.#host.filter, this.#entry, this.#host.limits, this.#fuel === undefined ? undefined : this.#exports, this.#memory.buffer.byteLength)
    }
  }

  #write (bytes: Uint8Array): number {
    const ptr = this.#reserve(bytes.length)
    if (bytes.length !== 0) this.#view.set(bytes, ptr)
    return ptr
  }

  /**
   * `wafer_alloc(len)`, checked: the pointer of `len` writable bytes (0 when `len` is 0). Leaves
   * `#view` current for writing them.
   */
  #reserve (len: number): number {
    if (len === 0) return 0
    const entry = this.#entry
    this.#entry = 'wafer_alloc'
    const ptr = this.#call(this.#alloc, len) >>> 0
    this.#entry = entry
    const mem = this.#mem()
    if (ptr === 0 || ptr + len > mem.length) {
      throw this.#error('WAFER_ERR_ABI_BAD_POINTER', [this.#host.filter, 'wafer_alloc', `it returned ${ptr} for ${len} bytes; memory is ${mem.length} bytes`])
    }
    return ptr
  }

  #mem (): Buffer {
    if (this.#view.length === 0 || this.#view.buffer !== this.#memory.buffer) this.#view = Buffer.from(this.#memory.buffer)
    return this.#view
  }

  /** Bytes at [ptr, ptr+len) of guest memory, or undefined (and a recorded fault) if out of range. */
  #slice (ptr: number, len: number, where: string): Buffer | undefined {
    ptr >>>= 0
    len >>>= 0
    const mem = this.#mem()
    if (ptr + len > mem.length) {
      this.#fault ??= this.#error('WAFER_ERR_ABI_BAD_POINTER', [this.#host.filter, where, `[${ptr}, ${ptr + len}) is outside its ${mem.length}-byte memory`])
      return undefined
    }
    return mem.subarray(ptr, ptr + len)
  }

  #imports (): WebAssembly.ModuleImports {
    const host = this.#host
    const key = (ptr: number, len: number, where: string): string | Result => {
      if (len >>> 0 > MAX_KEY) return Result.TooLarge
      const bytes = this.#slice(ptr, len, where)
      return bytes === undefined ? Result.BadPointer : `${host.filter}:${bytes.toString('utf8')}`
    }
    const op = (name: string, k: string | Result, exec: () => OpResult | Promise<OpResult>): number => {
      if (typeof k === 'number') return k
      if (this.#ex === undefined) return Result.NoRequest
      // Each result needs a resume to be delivered: a phase may start no more than it may resume.
      const over = this.#budget.startOp(name)
      if (over !== undefined) {
        this.#fault ??= over
        return Result.TooLarge
      }
      const token = this.#nextToken
      this.#nextToken = token >= 0x7fffffff ? 1 : token + 1
      this.#pending.push(startOp(token, name, exec))
      return token
    }
    return {
      output: (ptr: number, len: number): number => {
        if (len >>> 0 > host.limits.maxOutputBytes) {
          this.#fault ??= this.#error('WAFER_ERR_ABI_BAD_OUTPUT', [host.filter, this.#entry, `an output of ${len >>> 0} bytes exceeds limits.maxOutputBytes (${host.limits.maxOutputBytes})`])
          return Result.TooLarge
        }
        const bytes = this.#slice(ptr, len, 'output')
        if (bytes === undefined) return Result.BadPointer
        const text = bytes.toString('utf8')
        // Decoding replaces invalid UTF-8 with U+FFFD; only then is the (native) full check needed.
        if (text.includes('\ufffd') && !isUtf8(bytes)) {
          this.#fault ??= this.#error('WAFER_ERR_ABI_BAD_OUTPUT', [host.filter, this.#entry, 'output is not valid UTF-8'])
          return Result.Ok
        }
        this.#output = text
        return Result.Ok
      },
      log: (level: number, ptr: number, len: number): number => {
        const bytes = this.#slice(ptr, len, 'log')
        if (bytes === undefined) return Result.BadPointer
        const logger = this.#ex?.log ?? host.logger
        logger[LEVELS[level] ?? 'info']({ filter: host.filter }, bytes.toString('utf8'))
        return Result.Ok
      },
      now_ms: (): number => Date.now(),
      random_fill: (ptr: number, len: number): number => {
        if (len >>> 0 > MAX_RANDOM) return Result.TooLarge
        const bytes = this.#slice(ptr, len, 'random_fill')
        if (bytes === undefined) return Result.BadPointer
        randomFillSync(bytes)
        return Result.Ok
      },
      kv_get: (kp: number, kl: number): number => {
        const k = key(kp, kl, 'kv_get')
        return op('kv_get', k, () => mapResult(host.store.get(k as string), (v) => v === undefined ? { status: 1 } : { status: 0, data: v }))
      },
      kv_set: (kp: number, kl: number, vp: number, vl: number, ttlMs: number): number => {
        const k = key(kp, kl, 'kv_set')
        if (typeof k === 'number') return k
        if (vl >>> 0 > MAX_VALUE) return Result.TooLarge
        const v = this.#slice(vp, vl, 'kv_set')
        if (v === undefined) return Result.BadPointer
        const value = Buffer.from(v)
        return op('kv_set', k, () => mapResult(host.store.set(k, value, { ttlMs }), () => ({ status: 0 })))
      },
      kv_incr: (kp: number, kl: number, delta: number, ttlMs: number): number => {
        const k = key(kp, kl, 'kv_incr')
        const by = Math.trunc(delta)
        return op('kv_incr', k, () => mapResult(host.store.incr(k as string, { by, ttlMs }), (r) => ({ status: 0, data: Buffer.from(`{"value":${r.value},"ttlMs":${r.ttlMs}}`) })))
      },
      kv_del: (kp: number, kl: number): number => {
        const k = key(kp, kl, 'kv_del')
        return op('kv_del', k, () => mapResult(host.store.delete(k as string), (existed) => ({ status: existed ? 0 : 1 })))
      }
    }
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
    // A store failure leaves the guest consistent (its next entry call starts afresh);
    // a trap or an ABI violation may not.
    if (!(err instanceof WaferError && err.code === 'WAFER_ERR_STATE')) this.healthy = false
  }

  #reset (): void {
    this.#ex = undefined
    this.#output = undefined
    this.#fault = undefined
    if (this.#pending.length !== 0) this.#pending.length = 0
    this.#budget.reset()
  }
}

function mapResult<T> (value: T | Promise<T>, map: (v: T) => OpResult): OpResult | Promise<OpResult> {
  return value instanceof Promise ? value.then(map) : map(value)
}
