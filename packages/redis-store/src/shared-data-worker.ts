// The thread that makes Proxy-Wasm shared-data calls synchronous (shared-data.ts): it owns its
// own Redis connection, runs each request the main thread posts, posts the answer on `port`
// and then wakes the main thread, which waits on `signal` with Atomics.wait.
import { parentPort, workerData, type MessagePort } from 'node:worker_threads'
import { Redis, type RedisOptions } from 'ioredis'
import { SET_SCRIPT, SET_SCRIPT_SHA } from './shared-data-script.js'

/** What the main thread hands the worker. */
export interface WorkerInit {
  /** A URL, or the connection options of the client the application gave the store. */
  connection: string | RedisOptions
  signal: SharedArrayBuffer
  port: MessagePort
  timeoutMs: number
  hashKey: string
  counterKey: string
  channel: string
}

/** A request: read a slot's record, or run the CAS script. */
export type WorkerRequest =
  | { id: number, op: 'get', slot: Uint8Array }
  | { id: number, op: 'set', slot: Uint8Array, value: Uint8Array, cas: number }

/** An answer: a record (or null: no such key), the write's counter, a mismatch with the current record, or a failure. */
export type WorkerReply =
  | { id: number, ok: true, record: Uint8Array | null }
  | { id: number, ok: true, n: number }
  | { id: number, ok: false, record: Uint8Array }
  | { id: number, error: string, reason: 'unavailable' | 'timeout' }

const init = workerData as WorkerInit
const signal = new Int32Array(init.signal)
const options: RedisOptions = {
  enableOfflineQueue: false,
  maxRetriesPerRequest: 0,
  commandTimeout: init.timeoutMs,
  retryStrategy: (attempt: number) => Math.min(50 * 2 ** (attempt - 1), 2000)
}
const client = typeof init.connection === 'string' ? new Redis(init.connection, options) : new Redis({ ...init.connection, ...options })
// The main thread logs connection trouble; without a listener ioredis prints every error.
client.on('error', () => {})
client.on('ready', () => { parentPort?.postMessage('ready') })

parentPort?.on('message', (req: WorkerRequest | 'close') => {
  if (req === 'close') {
    client.disconnect()
    parentPort?.close()
    return
  }
  void answer(req).then((reply) => {
    init.port.postMessage(reply)
    Atomics.store(signal, 0, 1)
    Atomics.notify(signal, 0)
  })
})

async function answer (req: WorkerRequest): Promise<WorkerReply> {
  if (client.status !== 'ready') return { id: req.id, error: `Redis is not connected (${client.status})`, reason: 'unavailable' }
  try {
    if (req.op === 'get') return { id: req.id, ok: true, record: await client.hgetBuffer(init.hashKey, Buffer.from(req.slot)) }
    const args = [2, init.hashKey, init.counterKey, Buffer.from(req.slot), Buffer.from(req.value), req.cas, init.channel]
    let reply: unknown
    try {
      reply = await client.callBuffer('EVALSHA', SET_SCRIPT_SHA, ...args)
    } catch (err) {
      // The script cache is empty after a restart or SCRIPT FLUSH; EVAL loads it again.
      if (!(err instanceof Error && err.message.startsWith('NOSCRIPT'))) throw err
      reply = await client.callBuffer('EVAL', SET_SCRIPT, ...args)
    }
    const [written, detail] = reply as [number, Buffer | number]
    return written === 1 ? { id: req.id, ok: true, n: Number(detail) } : { id: req.id, ok: false, record: detail as Buffer }
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err)
    return { id: req.id, error: message, reason: /timed? ?out/i.test(message) ? 'timeout' : 'unavailable' }
  }
}
