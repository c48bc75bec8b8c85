// A minimal native-ABI host for the sandbox tests: instantiates a module directly (not through
// the runtime), with imports that record what the guest asked for and never throw into it.
// Version 2 modules (docs/abi-v2.md) get support/guest-host-v2.ts; version 1 modules (the
// example filters until the SDK speaks v2) get the JSON imports below.
import { readFileSync } from 'node:fs'
import { setFuel } from '../src/sandbox/index.ts'
import { HostV2, type RequestState } from './support/guest-host-v2.ts'

export const PAGE = 65536

export interface ImportCall { name: string, args: number[] }

function inRange (memory: WebAssembly.Memory | undefined, ptr: number, len: number): memory is WebAssembly.Memory {
  return memory !== undefined && ptr >= 0 && len >= 0 && ptr + len <= memory.buffer.byteLength
}

export const read = (path: string): Uint8Array<ArrayBuffer> => new Uint8Array(readFileSync(path))

/**
 * An instance with imports for every name of its ABI version (docs/abi-v2.md section 4, or
 * docs/abi.md section 3). They are deterministic, so two runs of the same calls give the same
 * bytes: `random_fill` writes a counter, `now_ms` is fixed, kv_* return increasing tokens.
 * Out-of-range pointers get -1, as from the real host.
 */
export class Guest {
  readonly exports: WebAssembly.Exports
  readonly memory: WebAssembly.Memory
  /** 2 when the module exports wafer_abi_version_2, else 1. */
  readonly version: 1 | 2
  /** The version 2 host state (request, header maps, effects); undefined for version 1. */
  readonly v2: HostV2 | undefined
  /** Every import call, in order. */
  readonly calls: ImportCall[] = []
  /** The bytes of the last `output`, as text. */
  output: string | undefined
  #memory: WebAssembly.Memory | undefined
  #token = 0
  #seed = 0

  constructor (bytes: Uint8Array<ArrayBuffer>) {
    const module = new WebAssembly.Module(bytes)
    this.version = WebAssembly.Module.exports(module).some((e) => e.name === 'wafer_abi_version_2') ? 2 : 1
    let wafer: Record<string, (...args: number[]) => number>
    if (this.version === 2) {
      this.v2 = new HostV2(() => this.#memory)
      wafer = this.v2.imports((name, args) => { this.calls.push({ name, args }) })
    } else {
      const names = ['output', 'log', 'now_ms', 'random_fill', 'kv_get', 'kv_set', 'kv_incr', 'kv_del']
      wafer = Object.fromEntries(names.map((name) => [name, (...args: number[]) => this.#import(name, args)]))
    }
    const instance = new WebAssembly.Instance(module, { wafer })
    this.exports = instance.exports
    this.memory = this.#memory = instance.exports.memory as WebAssembly.Memory
  }

  #import (name: string, args: number[]): number {
    this.calls.push({ name, args })
    const memory = this.#memory
    switch (name) {
      case 'output': {
        const [ptr, len] = args as [number, number]
        if (!inRange(memory, ptr, len)) return -1
        this.output = Buffer.from(memory.buffer, ptr, len).toString()
        return 0
      }
      case 'log':
        return inRange(memory, args[1] as number, args[2] as number) ? 0 : -1
      case 'random_fill': {
        const [ptr, len] = args as [number, number]
        if (!inRange(memory, ptr, len)) return -1
        const view = new Uint8Array(memory.buffer, ptr, len)
        for (let i = 0; i < len; i++) view[i] = (this.#seed++ * 131) & 0xff
        return 0
      }
      case 'now_ms':
        return 1_700_000_000_000
      default: { // kv_*: the key comes first; kv_set's value follows it
        const ok = inRange(memory, args[0] as number, args[1] as number) &&
          (name !== 'kv_set' || inRange(memory, args[2] as number, args[3] as number))
        return ok ? ++this.#token : -1
      }
    }
  }
}

/** Options for `enter`: a fuel budget to set before every call into the guest (metered modules). */
export interface EnterOptions { fuel?: bigint }

/**
 * The host side of one entry call. Version 2: the input is the configuration (wafer_init) or
 * the request (a `requestInput()` document) the imports answer from; the entry is called with
 * the configuration's length or nothing, and `output` is the JSON of what the guest changed
 * (undefined when nothing). Version 1, as docs/abi.md describes it: `wafer_alloc(len)`, copy the
 * input in, call the entry point. With `fuel`, the budget is set before each call.
 */
export function enter (guest: Guest, entry: string, input: string | Uint8Array, options: EnterOptions = {}): { action: number, output: string | undefined } {
  const bytes = typeof input === 'string' ? Buffer.from(input) : input
  guest.output = undefined
  if (guest.v2 !== undefined) {
    const init = entry === 'wafer_init'
    guest.v2.begin(init ? bytes : undefined, init ? undefined : JSON.parse(Buffer.from(bytes).toString()) as Partial<RequestState>)
    if (options.fuel !== undefined) setFuel(guest.exports, options.fuel)
    const action = init
      ? (guest.exports[entry] as (n: number) => number)(bytes.length)
      : (guest.exports[entry] as () => number)()
    return { action, output: effects(guest.v2) }
  }
  let ptr = 0
  if (bytes.length > 0) {
    if (options.fuel !== undefined) setFuel(guest.exports, options.fuel)
    ptr = (guest.exports.wafer_alloc as (n: number) => number)(bytes.length)
    new Uint8Array(guest.memory.buffer).set(bytes, ptr)
  }
  if (options.fuel !== undefined) setFuel(guest.exports, options.fuel)
  const action = (guest.exports[entry] as (p: number, l: number) => number)(ptr, bytes.length)
  return { action, output: guest.output }
}

const effects = (host: HostV2): string | undefined => host.effects.length === 0 ? undefined : JSON.stringify(host.effects)

/**
 * `wafer_on_resume` with a result, as the host delivers it: version 2 writes the result record
 * (and a kv_get value; `data` is kv_incr's `{"value","ttlMs"}`) first, version 1 passes `data`.
 */
export function resume (guest: Guest, token: number, status: number, data: string, options: EnterOptions = {}): { action: number, output: string | undefined } {
  const bytes = Buffer.from(data)
  guest.output = undefined
  if (guest.v2 !== undefined) {
    guest.v2.begin(undefined)
    guest.v2.deliver(token, status, bytes)
    if (options.fuel !== undefined) setFuel(guest.exports, options.fuel)
    const action = (guest.exports.wafer_on_resume as (t: number) => number)(token)
    return { action, output: effects(guest.v2) }
  }
  if (options.fuel !== undefined) setFuel(guest.exports, options.fuel)
  const ptr = (guest.exports.wafer_alloc as (n: number) => number)(bytes.length)
  new Uint8Array(guest.memory.buffer).set(bytes, ptr)
  if (options.fuel !== undefined) setFuel(guest.exports, options.fuel)
  const action = (guest.exports.wafer_on_resume as (t: number, s: number, p: number, l: number) => number)(token, status, ptr, bytes.length)
  return { action, output: guest.output }
}

/** A request input as docs/abi.md section 5 describes it (and the request a v2 Guest answers from). */
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
