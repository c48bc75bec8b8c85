import { fileURLToPath, pathToFileURL } from 'node:url'
import { MessageChannel, receiveMessageOnPort, Worker, type MessagePort } from 'node:worker_threads'
import type { Redis, RedisOptions } from 'ioredis'
import { casOf, type SharedData, type SharedDataEntry, type SharedDataSetResult, type WaferLogger } from '@wafer/core'
import type { LogLimiter } from './log-limiter.js'
import { parseChange, parseRecord, type SharedRecord } from './shared-data-script.js'
import type { WorkerInit, WorkerReply, WorkerRequest } from './shared-data-worker.js'

/** Most entries the mirror keeps (values and known-missing keys); the oldest go first. */
export const MIRROR_MAX_ENTRIES = 10_000
/** Longest `ready()` waits for the worker's connection and the subscription at startup. */
const READY_MAX_MS = 2000

/** A mirrored key: its value and CAS, and the counter that orders writes; `null` value: known missing. */
class Mirrored implements SharedDataEntry {
  readonly value: Buffer
  readonly cas: number
  readonly n: number
  constructor (record: SharedRecord) {
    this.value = record.value
    this.cas = casOf(record.n)
    this.n = record.n
  }
}

/** The one entry that stands for every key known to be missing. */
const MISSING = null

export interface RedisSharedDataOptions {
  /** The store's connection: duplicated for the subscription. */
  client: Redis
  /** How the worker connects: the store's URL, or the given client's options. */
  connection: string | RedisOptions
  keyPrefix: string
  /** How long a call may block the event loop waiting for Redis. */
  timeoutMs: number
  log: WaferLogger | undefined
  limiter: LogLimiter
  onError: ((op: string, err: Error) => void) | undefined
}

/**
 * Proxy-Wasm shared data in Redis, shared by every process on it, with Envoy's CAS semantics
 * (docs/proxy-wasm.md, "Shared data across processes"). Host calls are synchronous and Redis is
 * not, so:
 *
 * - **Writes** are one Lua script (shared-data-script.ts: compare, write, publish), atomic on the
 *   server, sent by a worker thread with its own connection while this thread waits on
 *   `Atomics.wait` for at most `timeoutMs`. The answer updates the mirror: the new CAS, or on a
 *   mismatch the current value, so the guest's retry reads it.
 * - **Reads** come from a per-process mirror, kept fresh by the writes' answers and by a pub/sub
 *   channel every write publishes on. A key the mirror does not have is read from Redis through
 *   the worker the same way, then mirrored (a missing one too). While the subscription is not in
 *   place (connecting, or lost) nothing is mirrored and every read goes to Redis, so a read is
 *   never staler than the channel's delivery. A stale mirror can only make a CAS fail; the
 *   guest's retry then reads the value the failure brought back.
 * - **Redis down or slow**: the call answers `unavailable` (the guest gets INTERNAL_FAILURE)
 *   after at most `timeoutMs`; a write that timed out may still be applied. One warning per
 *   minute per kind of failure.
 */
export class RedisSharedData implements SharedData {
  readonly #o: RedisSharedDataOptions
  readonly #mirror = new Map<string, Mirrored | typeof MISSING>()
  readonly #worker: Worker
  readonly #port: MessagePort
  readonly #signal = new Int32Array(new SharedArrayBuffer(4))
  readonly #sub: Redis
  readonly #channel: string
  #subscribed = false
  #workerReady = false
  #nextId = 1
  #closed = false
  readonly #waiters: Array<() => void> = []

  constructor (o: RedisSharedDataOptions) {
    this.#o = o
    const base = `${o.keyPrefix}{proxy-shared}`
    this.#channel = `${o.keyPrefix}proxy-shared`
    const { port1, port2 } = new MessageChannel()
    this.#port = port1
    const init: WorkerInit = { connection: o.connection, signal: this.#signal.buffer as SharedArrayBuffer, port: port2, timeoutMs: o.timeoutMs, hashKey: `${base}:data`, counterKey: `${base}:n`, channel: this.#channel }
    const { code, eval: isEval } = workerSource()
    this.#worker = new Worker(code, {
      eval: isEval,
      workerData: init,
      transferList: [port2],
      // None of the parent's flags: the worker needs no loader (from source it registers tsx
      // itself, see workerSource), and flags a worker refuses (--use-largepages, --v8-pool-size,
      // ..., which Node 24's own npm build runs with) would fail its creation.
      execArgv: []
    })
    this.#worker.unref()
    this.#worker.on('message', (m: unknown) => {
      if (m !== 'ready') return
      this.#workerReady = true
      this.#wake()
    })
    this.#worker.on('error', (err) => { this.#warn('worker', { err }, `the Redis shared-data worker failed: ${err.message}; proxy_set_shared_data answers INTERNAL_FAILURE`) })
    // Subscribed mode needs its own connection; it waits for Redis (and resubscribes) forever.
    this.#sub = o.client.duplicate({ enableOfflineQueue: true, maxRetriesPerRequest: null, autoResubscribe: false, lazyConnect: false })
    this.#sub.on('error', () => {})
    this.#sub.on('messageBuffer', (_channel: Buffer, message: Buffer) => { this.#changed(message) })
    this.#sub.on('ready', () => { this.#subscribe() })
    this.#sub.on('close', () => {
      // Changes published while unsubscribed are not heard: forget everything.
      this.#subscribed = false
      this.#mirror.clear()
    })
  }

  get (slot: string): SharedDataEntry | undefined | 'unavailable' {
    if (this.#subscribed) {
      const known = this.#mirror.get(slot)
      if (known !== undefined) return known ?? undefined
    }
    const reply = this.#call({ id: 0, op: 'get', slot: Buffer.from(slot) }, 'proxy_get_shared_data')
    if (reply === undefined) return 'unavailable'
    const bytes = 'record' in reply && reply.record !== null ? Buffer.from(reply.record) : undefined
    const record = bytes === undefined ? undefined : parseRecord(bytes)
    const entry = record === undefined ? MISSING : new Mirrored(record)
    this.#remember(slot, entry, true)
    return entry ?? undefined
  }

  set (slot: string, value: Uint8Array, cas: number): SharedDataSetResult {
    const copy = Buffer.from(value)
    const reply = this.#call({ id: 0, op: 'set', slot: Buffer.from(slot), value: copy, cas }, 'proxy_set_shared_data')
    if (reply === undefined) return 'unavailable'
    if ('n' in reply) {
      this.#remember(slot, new Mirrored({ n: reply.n, value: copy }), true)
      return 'ok'
    }
    const record = 'record' in reply && reply.record !== null ? parseRecord(Buffer.from(reply.record)) : undefined
    if (record !== undefined) this.#remember(slot, new Mirrored(record), true)
    return 'cas-mismatch'
  }

  /** Resolves once the worker is connected and the changes are subscribed to, or after 2 s. */
  async ready (): Promise<void> {
    if (this.#workerReady && this.#subscribed) return
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, READY_MAX_MS)
      this.#waiters.push(() => { clearTimeout(timer); resolve() })
    })
  }

  async close (): Promise<void> {
    if (this.#closed) return
    this.#closed = true
    this.#subscribed = false
    this.#mirror.clear()
    this.#worker.postMessage('close')
    this.#sub.disconnect()
    this.#port.close()
    await this.#worker.terminate()
  }

  /** How many keys are mirrored (for tests and status). */
  get mirrored (): number {
    return this.#mirror.size
  }

  /**
   * Posts `req` to the worker and blocks until its answer or `timeoutMs`. Answers to earlier
   * requests that timed out are drained and dropped. Undefined (after logging) when there is none.
   */
  #call (req: WorkerRequest, op: string): Exclude<WorkerReply, { error: string }> | undefined {
    if (this.#closed) return this.#fail(op, 'closed', 'the Redis store is closed')
    const id = this.#nextId++
    req.id = id
    Atomics.store(this.#signal, 0, 0)
    this.#worker.postMessage(req)
    const deadline = performance.now() + this.#o.timeoutMs
    for (;;) {
      for (let m = receiveMessageOnPort(this.#port); m !== undefined; m = receiveMessageOnPort(this.#port)) {
        const reply = m.message as WorkerReply
        if (reply.id !== id) continue
        if ('error' in reply) return this.#fail(op, reply.reason, reply.reason === 'timeout' ? this.#timedOut(op) : reply.error)
        return reply
      }
      const left = deadline - performance.now()
      if (left <= 0) return this.#fail(op, 'timeout', this.#workerReady ? this.#timedOut(op) : `the shared-data worker has not connected to Redis yet (${this.#o.timeoutMs} ms, sharedDataTimeoutMs)`)
      // Reset before waiting: the worker posts, then sets the flag, so no answer is missed.
      Atomics.wait(this.#signal, 0, 0, left)
      Atomics.store(this.#signal, 0, 0)
    }
  }

  /** The same words whichever noticed first: this thread's wait, or the worker's command timeout. */
  #timedOut (op: string): string {
    const what = `Redis did not answer within ${this.#o.timeoutMs} ms (sharedDataTimeoutMs)`
    return op === 'proxy_set_shared_data' ? `${what}; the write may still be applied` : what
  }

  #fail (op: string, reason: string, message: string): undefined {
    const err = Object.assign(new Error(`${op}: ${message}`), { reason })
    try {
      this.#o.onError?.(op, err)
    } catch {
      // The store's onError hook is the application's; its failure is not the guest's.
    }
    this.#warn(`shared:${reason}`, { op, reason }, `Proxy-Wasm shared data in Redis is failing: ${err.message}; the filter gets INTERNAL_FAILURE`)
    return undefined
  }

  #warn (key: string, fields: Record<string, unknown>, message: string): void {
    const suppressed = this.#o.limiter.take(key)
    if (suppressed !== undefined) this.#o.log?.warn({ ...fields, suppressed }, message)
  }

  /**
   * Mirrors `entry` for `slot` (while subscribed). An answer Redis just gave (`fresh`) replaces
   * what the mirror has: this thread was blocked while waiting for it, so every change heard
   * before is older. A change heard on the channel replaces only an older record: it may have
   * been published before an answer already mirrored.
   */
  #remember (slot: string, entry: Mirrored | typeof MISSING, fresh: boolean): void {
    if (!this.#subscribed) return
    const known = this.#mirror.get(slot)
    if (!fresh && known != null && (entry === MISSING || known.n >= entry.n)) return
    if (known === undefined && this.#mirror.size >= MIRROR_MAX_ENTRIES) {
      this.#mirror.delete(this.#mirror.keys().next().value as string)
    }
    this.#mirror.set(slot, entry)
  }

  #changed (message: Buffer): void {
    const change = parseChange(message)
    // Only keys already mirrored: the others are read from Redis when a guest asks for them.
    if (change !== undefined && this.#mirror.has(change.slot)) this.#remember(change.slot, new Mirrored(change.record), false)
  }

  #subscribe (): void {
    this.#sub.subscribe(this.#channel).then(() => {
      if (this.#closed) return
      this.#subscribed = true
      this.#wake()
    }, () => {
      // The connection went away again; the next `ready` subscribes again.
    })
  }

  #wake (): void {
    if (!this.#workerReady || !this.#subscribed) return
    for (const w of this.#waiters.splice(0)) w()
  }
}

/**
 * The worker's file beside this one (`.js` when built). Run from source (this repository's tests,
 * under tsx), it is `.ts`, and Node 20 does not apply `--import` loaders to a worker's entry: a
 * small bootstrap registers tsx in the worker first.
 */
function workerSource (): { code: string, eval: boolean } {
  const here = fileURLToPath(import.meta.url)
  const file = here.replace(/shared-data\.(ts|js)$/, 'shared-data-worker.$1')
  if (file.endsWith('.js')) return { code: file, eval: false }
  const tsx = import.meta.resolve('tsx/esm/api')
  return { code: `import(${JSON.stringify(tsx)}).then((m) => m.register()).then(() => import(${JSON.stringify(pathToFileURL(file).href)}))`, eval: true }
}
