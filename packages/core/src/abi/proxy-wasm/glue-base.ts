import { waferError, type WaferError } from '../../errors.js'
import { FilterCall } from '../../http/request-context.js'
import { GuestMemory } from '../guest-memory.js'
import type { GuestHost } from '../types.js'
import type { CalloutAnswer, Glue, Stage } from './glue.js'
import type { CalloutRequest } from './http-call.js'
import type { QueueReceiver } from './queues.js'
import { Status, StreamType } from './spec.js'

const LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'error'] as const

/**
 * What the host calls see of an instance (the `Glue`): its memory and request context, the
 * faults they record, and memory handed to the guest through its allocator. The lifecycle
 * (callbacks, contexts, traps) is instance.ts's; this is the state a host call may touch.
 */
export abstract class GlueBase implements Glue {
  readonly mem = new GuestMemory()
  readonly call = new FilterCall()
  readonly host: GuestHost
  readonly rootId = 1
  stage: Stage = 'idle'
  contextId = 0
  configuration: Buffer | undefined
  allocating = false
  broken = false
  /** The first fault of the callback in progress, raised when it returns. */
  protected fault: WaferError | undefined
  /** The export being called, for messages. */
  protected entry = ''
  /** A host call said the stream in progress goes on (`proxy_continue_stream`). */
  protected continued = false
  /** The last line the guest logged while it was configured: the reason it gives for a rejection. */
  protected lastLine: string | undefined

  constructor (host: GuestHost) {
    this.host = host
  }

  /** The guest's allocator (`malloc` or `proxy_on_memory_allocate`), once instantiated. */
  protected abstract readonly allocator: { name: string, fn: (size: number) => number }
  /** The coded error for a throw out of guest code in `where`. */
  protected abstract trap (err: unknown, where: string): WaferError
  // The instance's callbacks outside the request's own (instance.ts): HTTP calls, ticks, queues.
  abstract readonly callout: CalloutAnswer | undefined
  abstract readonly queueReceiver: QueueReceiver
  abstract setEffectiveContext (id: number): Status
  abstract startCall (request: CalloutRequest, body: Buffer, timeoutMs: number): number | undefined
  abstract setTickPeriod (ms: number): void
  abstract proxyDone (): Status

  log (level: number, text: string): void {
    if (this.stage === 'configure' || this.stage === 'vm_start') this.lastLine = text
    const logger = this.call.ex?.log ?? this.host.logger
    logger[LEVELS[level] ?? 'info']({ filter: this.host.filter }, text)
  }

  badPointer (where: string, ptr: number, len: number): Status {
    this.fault ??= this.error('WAFER_ERR_ABI_BAD_POINTER', [this.host.filter, where, `[${ptr >>> 0}, ${(ptr >>> 0) + (len >>> 0)}) is outside its ${this.mem.byteLength()}-byte memory`])
    return Status.InvalidMemoryAccess
  }

  refuse (where: string, problem: string): Status {
    this.fault ??= this.error('WAFER_ERR_ABI_BAD_OUTPUT', [this.host.filter, this.entry, `${where}: ${problem}`])
    return Status.BadArgument
  }

  tooLarge (where: string, len: number): boolean {
    const max = this.host.limits.maxOutputBytes
    if (len >>> 0 <= max) return false
    this.refuse(where, `a write of ${len >>> 0} bytes exceeds limits.maxOutputBytes (${max})`)
    return true
  }

  put (where: string, ptr: number, value: number | bigint, wide = false): boolean {
    if (!this.mem.inBounds(ptr, wide ? 8 : 4)) {
      this.badPointer(where, ptr, wide ? 8 : 4)
      return false
    }
    if (wide) this.mem.view().writeBigUInt64LE(BigInt(value), ptr >>> 0)
    else this.mem.view().writeUInt32LE(Number(value) >>> 0, ptr >>> 0)
    return true
  }

  give (where: string, bytes: Uint8Array, ptrPtr: number, sizePtr: number): Status {
    let ptr = 0
    if (bytes.length > 0) {
      const at = this.#allocate(where, bytes.length)
      if (at === undefined) return Status.InvalidMemoryAccess
      this.mem.view().set(bytes, at)
      ptr = at
    }
    return this.put(where, ptrPtr, ptr) && this.put(where, sizePtr, bytes.length) ? Status.Ok : Status.InvalidMemoryAccess
  }

  continueStream (stream: number): void {
    if ((stream === StreamType.Request && this.stage === 'request') || (stream === StreamType.Response && this.stage === 'response')) this.continued = true
  }

  /**
   * Memory for what the host hands the guest, from the guest's own allocator, called inside a
   * host call (that is how Proxy-Wasm works). While it runs, the guest may only log and read
   * clocks; it runs on the fuel left to the callback that made the host call, so one that loops
   * traps on fuel; what it returns must be a non-zero address with `size` bytes inside memory.
   * A trap inside it breaks the instance: every later host call of the callback fails at once.
   */
  #allocate (where: string, size: number): number | undefined {
    const { name, fn } = this.allocator
    const call = `${name}(${size}) for ${where}`
    let ptr: number
    this.allocating = true
    try {
      ptr = fn(size) >>> 0
    } catch (err) {
      this.broken = true
      this.fault ??= this.trap(err, `${this.entry}, in ${call}`)
      return undefined
    } finally {
      this.allocating = false
    }
    if (ptr !== 0 && this.mem.inBounds(ptr, size)) return ptr
    this.fault ??= this.error('WAFER_ERR_ABI_BAD_POINTER', [this.host.filter, this.entry,
      ptr === 0 ? `${call} returned 0 (allocation failed)` : `${call} returned ${ptr}: [${ptr}, ${ptr + size}) is outside its ${this.mem.byteLength()}-byte memory`])
    return undefined
  }

  protected error (code: ConstructorParameters<typeof WaferError>[0], args: unknown[]): WaferError {
    return waferError(code, args, { filter: this.host.filter })
  }
}
