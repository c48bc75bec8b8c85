// A minimal native-ABI host for the sandbox tests: instantiates a module directly (not through
// the runtime), with the imports of support/guest-host-v2.ts, which record what the guest asked
// for and never throw into it.
import { readFileSync } from 'node:fs'
import { setFuel } from '../src/sandbox/index.ts'
import { HostV2, type RequestState } from './support/guest-host-v2.ts'

export const PAGE = 65536

export interface ImportCall { name: string, args: number[] }

export const read = (path: string): Uint8Array<ArrayBuffer> => new Uint8Array(readFileSync(path))

/**
 * An instance with imports for every name of docs/abi.md section 4. They are deterministic,
 * so two runs of the same calls give the same bytes: `random_fill` writes a counter, `now_ms`
 * is fixed, kv_* return increasing tokens. Out-of-range pointers get -1, as from the real host.
 */
export class Guest {
  readonly exports: WebAssembly.Exports
  readonly memory: WebAssembly.Memory
  /** The host's side: the request, the header maps, what the guest changed. */
  readonly host: HostV2
  /** Every import call, in order. */
  readonly calls: ImportCall[] = []
  #memory: WebAssembly.Memory | undefined

  constructor (bytes: Uint8Array<ArrayBuffer>) {
    this.host = new HostV2(() => this.#memory)
    const wafer = this.host.imports((name, args) => { this.calls.push({ name, args }) })
    const instance = new WebAssembly.Instance(new WebAssembly.Module(bytes), { wafer })
    this.exports = instance.exports
    this.memory = this.#memory = instance.exports.memory as WebAssembly.Memory
  }
}

/** Options for `enter`: a fuel budget to set before the call into the guest (metered modules). */
export interface EnterOptions { fuel?: bigint }

/** What an entry returned, and the JSON of what the guest changed in it (undefined: nothing). */
export interface EntryResult { action: number, output: string | undefined }

const effects = (host: HostV2): string | undefined => host.effects.length === 0 ? undefined : JSON.stringify(host.effects)

/**
 * The host side of one entry call: `input` is the configuration (`wafer_init`, called with its
 * length), or what the imports answer from in a phase (called with no arguments): the request,
 * a `requestInput()` document, or for the response phase `{"status","headers","request"}`.
 * With `fuel`, the budget is set before the call.
 */
export function enter (guest: Guest, entry: string, input: string | Uint8Array, options: EnterOptions = {}): EntryResult {
  const bytes = typeof input === 'string' ? Buffer.from(input) : input
  const init = entry === 'wafer_init'
  if (init) guest.host.begin(bytes)
  else {
    const doc = JSON.parse(Buffer.from(bytes).toString()) as Partial<RequestState> & { status?: number, request?: Partial<RequestState> }
    if (doc.request === undefined) guest.host.begin(undefined, doc)
    else guest.host.begin(undefined, doc.request, { status: doc.status ?? 200, headers: doc.headers ?? {} })
  }
  if (options.fuel !== undefined) setFuel(guest.exports, options.fuel)
  const action = init
    ? (guest.exports[entry] as (n: number) => number)(bytes.length)
    : (guest.exports[entry] as () => number)()
  return { action, output: effects(guest.host) }
}

/**
 * `wafer_on_resume(token)` after the host wrote the operation's result: the record's status,
 * and a kv_get value or kv_incr's `{"value","ttlMs"}` given as `data`.
 */
export function resume (guest: Guest, token: number, status: number, data: string, options: EnterOptions = {}): EntryResult {
  guest.host.begin(undefined)
  guest.host.deliver(token, status, Buffer.from(data))
  if (options.fuel !== undefined) setFuel(guest.exports, options.fuel)
  const action = (guest.exports.wafer_on_resume as (t: number) => number)(token)
  return { action, output: effects(guest.host) }
}

/** The request a Guest's imports answer from, as `enter` takes it. */
export function requestInput (init: { path?: string, query?: string, headers?: Record<string, string> } = {}): string {
  return JSON.stringify({
    id: 'req-1',
    method: 'GET',
    path: init.path ?? '/api/items',
    query: init.query ?? 'page=2',
    remoteAddress: '203.0.113.9',
    headers: init.headers ?? {}
  })
}

/** The ~350-byte header set of benchmarks/micro/filter-call.mjs. */
export const browserHeaders = (): Record<string, string> => ({
  host: 'api.example.com',
  'user-agent': 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0',
  accept: 'application/json',
  'accept-encoding': 'gzip, deflate, br',
  'x-api-key': 'k1-test-key',
  'x-forwarded-for': '203.0.113.9'
})

/** Compiles WebAssembly text with binaryen (already a dependency of the sandbox). */
export async function wat (text: string): Promise<Uint8Array<ArrayBuffer>> {
  const binaryen = (await import('binaryen')).default
  const mod = binaryen.parseText(text)
  try {
    mod.setFeatures(binaryen.Features.MutableGlobals | binaryen.Features.BulkMemory | binaryen.Features.BulkMemoryOpt | binaryen.Features.TailCall)
    if (mod.validate() !== 1) throw new Error('invalid test module')
    return mod.emitBinary() as Uint8Array<ArrayBuffer>
  } finally {
    mod.dispose()
  }
}

export interface IsolatedResult {
  /** `${name}: ${message}` of what the call threw, or 'returned <value>'. */
  outcome: string
  exhausted: boolean
  remaining: bigint
  /** The i32 at address 0 afterwards (the hostile fixtures count their iterations there). */
  counter: number
}

/**
 * Instantiates a metered module and calls `entry(0, 0)` with `budget` fuel (only instantiates
 * when `entry` is ''), in a worker thread, so that a
 * sandbox that fails to stop an infinite loop fails the test (the worker is terminated after
 * `timeoutMs`) instead of hanging the test run.
 */
export async function callIsolated (bytes: Uint8Array, entry: string, budget: bigint, timeoutMs = 60_000): Promise<IsolatedResult> {
  const { Worker } = await import('node:worker_threads')
  const source = `
    const { parentPort, workerData: { bytes, entry, budget } } = require('node:worker_threads')
    const stub = () => 0
    const wafer = new Proxy({}, { get: () => stub })
    let exports
    let outcome = 'instantiated'
    try {
      exports = new WebAssembly.Instance(new WebAssembly.Module(bytes), { wafer }).exports
      if (entry !== '') {
        exports.wafer_fuel_set(budget)
        outcome = 'returned ' + exports[entry](0, 0)
      }
    } catch (err) {
      outcome = err.name + ': ' + err.message
    }
    parentPort.postMessage({
      outcome,
      exhausted: exports !== undefined && exports.wafer_fuel_exhausted.value === 1,
      remaining: exports === undefined ? 0n : exports.wafer_fuel.value,
      counter: exports === undefined ? 0 : new DataView(exports.memory.buffer).getInt32(0, true)
    })`
  const worker = new Worker(source, { eval: true, workerData: { bytes, entry, budget } })
  try {
    return await new Promise<IsolatedResult>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${entry} did not return within ${timeoutMs} ms: the sandbox did not stop it`)), timeoutMs)
      worker.once('message', (m: IsolatedResult) => { clearTimeout(timer); resolve(m) })
      worker.once('error', (err) => { clearTimeout(timer); reject(err) })
    })
  } finally {
    await worker.terminate()
  }
}
