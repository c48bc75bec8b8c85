import { describe, waferError, type WaferError } from '../errors.js'
import type { ResolvedLimits } from '../wasm/limits.js'
import { fuelExhausted } from '../sandbox/budget.js'

/**
 * What every ABI's glue shares about one phase of one request on one instance (docs/abi.md
 * section 6): the resume and operation counts against `limits.maxResumes`, and the deadline
 * `limits.timeoutMs` from the phase's first asynchronous wait. One object per instance, reset
 * when a phase ends, so a request allocates nothing here unless it waits.
 */
export class PhaseBudget {
  readonly #filter: string
  readonly #limits: Readonly<ResolvedLimits>
  #resumes = 0
  #ops = 0
  /** performance.now() at which the phase expires; 0 until its first wait. */
  #deadline = 0

  constructor (filter: string, limits: Readonly<ResolvedLimits>) {
    this.#filter = filter
    this.#limits = limits
  }

  reset (): void {
    this.#resumes = 0
    this.#ops = 0
    this.#deadline = 0
  }

  /** Counts an operation the guest starts; the error when it is one too many. */
  startOp (name: string): WaferError | undefined {
    if (++this.#ops <= this.#limits.maxResumes) return undefined
    return waferError('WAFER_ERR_FILTER_RESUMES', [this.#filter, this.#limits.maxResumes, `started operation ${this.#ops} (${name})`], { filter: this.#filter })
  }

  /** Counts a resume; throws when it is one too many. */
  resume (): void {
    if (++this.#resumes > this.#limits.maxResumes) {
      throw waferError('WAFER_ERR_FILTER_RESUMES', [this.#filter, this.#limits.maxResumes, 'resumed'], { filter: this.#filter })
    }
  }

  /** Waits for `promise` within what is left of the phase's deadline; rejects with WAFER_ERR_FILTER_DEADLINE. */
  async wait (promise: Promise<unknown>, name: string): Promise<void> {
    const { timeoutMs } = this.#limits
    const now = performance.now()
    if (this.#deadline === 0) this.#deadline = now + timeoutMs
    const left = this.#deadline - now
    const expired = (): WaferError => waferError('WAFER_ERR_FILTER_DEADLINE', [this.#filter, timeoutMs, name], { filter: this.#filter })
    if (left <= 0) throw expired()
    let timer: NodeJS.Timeout | undefined
    try {
      await Promise.race([promise, new Promise<never>((_resolve, reject) => { timer = setTimeout(() => { reject(expired()) }, left) })])
    } finally {
      clearTimeout(timer)
    }
  }
}

/**
 * The coded error for a throw out of guest code: out of fuel, at the memory limit, or another
 * trap. Whatever it is, the instance is unusable afterwards.
 */
export function trapError (err: unknown, filter: string, entry: string, limits: Readonly<ResolvedLimits>,
  meteredExports: WebAssembly.Exports | undefined, memoryBytes: number): WaferError {
  if (meteredExports !== undefined && fuelExhausted(meteredExports)) {
    return waferError('WAFER_ERR_FILTER_FUEL', [filter, entry, limits.fuel], { cause: err, filter })
  }
  if (limits.memoryPages !== undefined && memoryBytes >= limits.memoryPages * 65536) {
    return waferError('WAFER_ERR_FILTER_MEMORY', [filter, entry, limits.memoryPages, describe(err)], { cause: err, filter })
  }
  return waferError('WAFER_ERR_FILTER_TRAP', [filter, entry, describe(err)], { cause: err, filter })
}
