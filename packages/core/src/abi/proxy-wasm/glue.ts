import type { FilterCall } from '../../http/request-context.js'
import type { GuestMemory } from '../guest-memory.js'
import type { GuestHost } from '../types.js'
import type { CalloutRequest } from './http-call.js'
import type { Pair } from './pairs.js'
import type { QueueReceiver } from './queues.js'
import type { Status } from './spec.js'

/**
 * Which callback of the guest is running. Header maps and bodies are there only in a stream
 * callback (`request`, `response`; read-only in `log`), the configurations only in theirs.
 * `async` is a callback outside the request's own (a tick, a queue, an HTTP call's answer); while
 * it runs with a paused request as its effective context, the stage is that request's phase.
 */
export type Stage = 'idle' | 'start' | 'vm_start' | 'configure' | 'create' | 'request' | 'response' | 'log' | 'async'

/** An HTTP call's answer, readable while `proxy_on_http_call_response` runs (map 6, buffer 4). */
export interface CalloutAnswer {
  headers: Pair[]
  /** `headers` serialised, made on first read. */
  serialized: Buffer | undefined
  body: Buffer
}

/**
 * What the host calls (host-calls.ts) see of the instance that owns them (instance.ts): the
 * guest's memory, the request context, and how a call reports a fault. A fault is kept and
 * raised as a coded error when the callback returns; the guest gets a status at once.
 */
export interface Glue {
  readonly mem: GuestMemory
  readonly call: FilterCall
  readonly host: GuestHost
  readonly stage: Stage
  readonly rootId: number
  /** The stream context being served, or 0. */
  readonly contextId: number
  /** The plugin configuration (in `configure`) or the VM configuration (in `vm_start`). */
  readonly configuration: Buffer | undefined
  /** The module is inside its allocator, called by the host: only logging and clocks are allowed. */
  readonly allocating: boolean
  /** A trap inside the allocator broke the instance: every host call fails at once. */
  readonly broken: boolean
  /** Logs for the guest; `level` is a `proxy_log_level_t`. */
  log: (level: number, text: string) => void
  badPointer: (where: string, ptr: number, len: number) => Status
  /** A write the host refuses (WAFER_ERR_ABI_BAD_OUTPUT); the guest gets BAD_ARGUMENT. */
  refuse: (where: string, problem: string) => Status
  /** Whether `len` is over limits.maxOutputBytes (then a fault is recorded). */
  tooLarge: (where: string, len: number) => boolean
  /** Copies `bytes` into memory from the guest's allocator, and writes its address and size. */
  give: (where: string, bytes: Uint8Array, ptrPtr: number, sizePtr: number) => Status
  /** Writes a u32 (or, with `wide`, a u64) result; false after recording a bad pointer. */
  put: (where: string, ptr: number, value: number | bigint, wide?: boolean) => boolean
  /** `proxy_continue_stream` was called for the stream in progress. */
  continueStream: (stream: number) => void
  /** `proxy_set_effective_context` to the root or the request's context (checked by the host call). */
  setEffectiveContext: (id: number) => Status
  /** The answer `proxy_on_http_call_response` is reading, or undefined outside it. */
  readonly callout: CalloutAnswer | undefined
  /** Starts an HTTP call of the root context; its token, or undefined when too many are outstanding. */
  startCall: (request: CalloutRequest, body: Buffer, timeoutMs: number) => number | undefined
  /** `proxy_set_tick_period_milliseconds` on the instance's root context; 0 stops the ticks. */
  setTickPeriod: (ms: number) => void
  /** `proxy_done`: OK when the root context's proxy_on_done asked to wait for it, else NOT_FOUND. */
  proxyDone: () => Status
  /** The root context as a shared-queue receiver. */
  readonly queueReceiver: QueueReceiver
}
