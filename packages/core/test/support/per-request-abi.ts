// A guest ABI made for the lifecycle tests: it binds an instance to a request (like Proxy-Wasm)
// and records, in order, what the host asked of each instance. It is registered through the
// same registry as the native ABI, and its guest is a real WebAssembly module that keeps the
// request it serves in a global from `begin` to `done`.
import { CONTINUE, WaferError, type Decision } from '../../src/index.ts'
import type { Exchange } from '../../src/http/exchange.ts'
import { trapError } from '../../src/abi/phase-budget.ts'
import { registerAbi } from '../../src/abi/registry.ts'
import type { FilterNeeds, GuestAbi, GuestHost, GuestInstance } from '../../src/abi/types.ts'
import { wat } from '../sandbox-guest.ts'

export const MARKER = 'test_abi_per_request'

/** What the request phase does, chosen by the request's `x-mode` header. */
const MODES: Record<string, number> = { continue: 0, respond: 1, fail: 2, trap: 3, pause: 4 }

/**
 * `on_request(mode)` traps for mode 3 and otherwise returns it; `on_response` returns the
 * request the instance is serving (0 when none), `done` forgets it, and traps for request 13.
 */
export const guest = (): Promise<Uint8Array<ArrayBuffer>> => wat(`(module
  (memory (export "memory") 1)
  (global $req (mut i32) (i32.const 0))
  (func (export "${MARKER}"))
  (func (export "begin") (param $id i32) (global.set $req (local.get $id)))
  (func (export "on_request") (param $mode i32) (result i32)
    (if (i32.eq (local.get $mode) (i32.const 3)) (then unreachable))
    (local.get $mode))
  (func (export "on_response") (result i32) (global.get $req))
  (func (export "done")
    (if (i32.eq (global.get $req) (i32.const 13)) (then unreachable))
    (global.set $req (i32.const 0))))`)

export interface PerRequestAbi {
  abi: GuestAbi
  /** `<instance>:<step>:<request id>`, in the order the host asked. */
  events: string[]
  /** Resolves the request phases waiting in mode `pause`, oldest first. */
  resume: () => void
}

interface Exports {
  begin: (id: number) => void
  on_request: (mode: number) => number
  on_response: () => number
  done: () => void
}

const NO_NEEDS: FilterNeeds = { requestBody: false, responseBody: false, skipRequestPhase: false, skipResponsePhase: false }

/** Registers the ABI for one test; it is removed when the test ends. */
export function usePerRequestAbi (t: { after: (fn: () => void) => void }): PerRequestAbi {
  const events: string[] = []
  const paused: Array<() => void> = []
  let instances = 0

  class Instance implements GuestInstance {
    healthy = true
    readonly #id = ++instances
    readonly #x: Exports
    readonly #host: GuestHost

    constructor (module: WebAssembly.Module, host: GuestHost) {
      this.#host = host
      this.#x = new WebAssembly.Instance(module, {}).exports as unknown as Exports
    }

    init (): FilterNeeds {
      return NO_NEEDS
    }

    begin (ex: Exchange): void {
      this.#record('begin', ex)
      this.#enter('begin', () => { this.#x.begin(Number(ex.id)) })
    }

    onRequest (ex: Exchange): Decision | Promise<Decision> {
      const mode = MODES[String(ex.headers['x-mode'] ?? 'continue')] ?? 0
      this.#record(`request(${String(ex.headers['x-mode'] ?? 'continue')})`, ex)
      const action = this.#enter('on_request', () => this.#x.on_request(mode))
      switch (action) {
        case 1: return { respond: true, response: { status: 403, headers: {}, body: 'denied' } }
        // A failure that leaves the instance usable, as a store failure does.
        case 2: throw new WaferError('WAFER_ERR_STATE', ['get', this.#host.filter, 'the test store failed'], { filter: this.#host.filter })
        case 4: return new Promise((resolve) => {
          paused.push(() => {
            this.#record('resumed', ex)
            resolve(CONTINUE)
          })
        })
        default: return CONTINUE
      }
    }

    onResponse (ex: Exchange): Decision {
      const held = this.#enter('on_response', () => this.#x.on_response())
      this.#record(`response(holds ${held})`, ex)
      return CONTINUE
    }

    done (ex: Exchange): void {
      if (!this.healthy) {
        // Never enter a guest that trapped: only drop what the host keeps for the request.
        this.#record('done(unhealthy)', ex)
        return
      }
      this.#record('done', ex)
      this.#enter('done', () => { this.#x.done() })
    }

    #record (step: string, ex: Exchange): void {
      events.push(`${this.#id}:${step}:${ex.id}`)
    }

    #enter<T> (entry: string, fn: () => T): T {
      try {
        return fn()
      } catch (err) {
        this.healthy = false
        throw trapError(err, this.#host.filter, entry, this.#host.limits, undefined, 0)
      }
    }
  }

  const abi: GuestAbi = {
    id: 'test-per-request',
    version: 1,
    marker: MARKER,
    perRequest: true,
    budgetEntries: [],
    detect: (info) => info.exports.some((e) => e.name === MARKER),
    validate: () => ({ abi: 'test-per-request', version: 1, request: true, response: true }),
    instantiate: (module, _info, host) => new Instance(module, host)
  }
  t.after(registerAbi(abi))
  return { abi, events, resume: () => { paused.shift()?.() } }
}
