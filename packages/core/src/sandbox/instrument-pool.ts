import { availableParallelism } from 'node:os'
import { Worker } from 'node:worker_threads'
import type { InstrumentOptions } from './instrument.js'
import type { InstrumentReply, InstrumentTask } from './instrument-worker.js'

/**
 * Instruments modules on worker threads. binaryen's work is synchronous and takes seconds for
 * a module of a few MB: on the main thread it would stop the server answering during a reload,
 * and modules would be prepared one after another on a single core.
 *
 * Workers are started on demand, up to one per core (at most MAX_WORKERS), each loading
 * binaryen once. A worker with nothing to do does not keep the process alive, and stops after
 * IDLE_MS so an idle server does not hold binaryen's memory.
 *
 * Another worker is started only when the modules waiting for one add up to EXTRA_WORKER_BYTES:
 * a worker costs about a second of CPU before it is fast (loading binaryen, warming up its JIT),
 * while a warm one instruments about 1 MB/s. Below that, on two cores, a second worker made
 * the example app's cold start slower, not faster (docs/benchmarks.md, Cold start).
 */
const MAX_WORKERS = 4
const IDLE_MS = 10_000
const EXTRA_WORKER_BYTES = 1024 * 1024

interface Job {
  task: InstrumentTask
  resolve: (bytes: Uint8Array) => void
  reject: (err: Error) => void
}

interface Slot {
  worker: Worker
  job: Job | undefined
  idle: NodeJS.Timeout | undefined
}

const slots: Slot[] = []
const queue: Job[] = []
let nextId = 1

/** Instruments `bytes` on a worker thread; rejects with the instrumenter's message when the module cannot be sandboxed. */
export function instrumentOffThread (bytes: Uint8Array, options: InstrumentOptions): Promise<Uint8Array> {
  return new Promise((resolve, reject) => {
    queue.push({ task: { id: nextId++, bytes, options }, resolve, reject })
    dispatch()
  })
}

/** How many workers may run at once: one per core, at most MAX_WORKERS. */
function poolSize (): number {
  return Math.max(1, Math.min(availableParallelism(), MAX_WORKERS))
}

function dispatch (): void {
  while (queue.length > 0) {
    const slot = slots.find((s) => s.job === undefined) ?? (worthAnotherWorker() ? start() : undefined)
    if (slot === undefined) return
    run(slot, queue.shift() as Job)
  }
}

function worthAnotherWorker (): boolean {
  if (slots.length === 0) return true
  if (slots.length >= poolSize()) return false
  let waiting = 0
  for (const job of queue) waiting += job.task.bytes.length
  return waiting >= EXTRA_WORKER_BYTES
}

function run (slot: Slot, job: Job): void {
  if (slot.idle !== undefined) clearTimeout(slot.idle)
  slot.idle = undefined
  slot.job = job
  slot.worker.ref()
  slot.worker.postMessage(job.task)
}

function start (): Slot {
  const { script, evaluated } = workerScript()
  // No inherited execArgv: the worker needs no loader, and on Node.js 22+ an inherited
  // `--import tsx` passes binaryen's 15 MB through tsx first (9 s instead of 0.5 s).
  const worker = new Worker(script, { eval: evaluated, name: 'wafer-instrument', execArgv: [] })
  const slot: Slot = { worker, job: undefined, idle: undefined }
  worker.on('message', (reply: InstrumentReply) => {
    const job = slot.job
    if (job === undefined || job.task.id !== reply.id) return
    slot.job = undefined
    if ('error' in reply) job.reject(new Error(reply.error))
    else job.resolve(reply.bytes)
    if (queue.length > 0) {
      run(slot, queue.shift() as Job)
      return
    }
    worker.unref()
    slot.idle = setTimeout(() => { remove(slot); void worker.terminate() }, IDLE_MS)
    slot.idle.unref()
  })
  const fail = (err: Error): void => {
    if (!remove(slot)) return
    slot.job?.reject(err)
    dispatch()
  }
  worker.on('error', (err) => fail(new Error(`the instrumentation worker failed: ${err.message}`, { cause: err })))
  worker.on('exit', (code) => fail(new Error(`the instrumentation worker stopped (exit code ${code})`)))
  slots.push(slot)
  return slot
}

function remove (slot: Slot): boolean {
  const i = slots.indexOf(slot)
  if (i < 0) return false
  slots.splice(i, 1)
  if (slot.idle !== undefined) clearTimeout(slot.idle)
  return true
}

/**
 * The worker's entry point next to this file: dist/sandbox/instrument-worker.js when running
 * from the build. From the TypeScript source (the tests, under tsx) a worker does not inherit
 * tsx's loader, so it registers it before importing the .ts entry; binaryen is imported before
 * that, because tsx takes seconds to pass its 15 MB through the loader (17 s against 0.9 s).
 */
function workerScript (): { script: string | URL, evaluated: boolean } {
  const here = import.meta.url
  if (!here.endsWith('.ts')) return { script: new URL('./instrument-worker.js', here), evaluated: false }
  let tsx: string
  try {
    tsx = import.meta.resolve('tsx/esm/api')
  } catch {
    // Another TypeScript loader: use the build (src/sandbox -> dist/sandbox).
    return { script: new URL('../../dist/sandbox/instrument-worker.js', here), evaluated: false }
  }
  const [binaryen, api, entry] = [import.meta.resolve('binaryen'), tsx, new URL('./instrument-worker.ts', here).href].map((url) => JSON.stringify(url))
  return { script: `import(${binaryen}).then(() => import(${api})).then((api) => { api.register(); return import(${entry}) })`, evaluated: true }
}
