import { CLOSE_STREAM, CONTINUE, type Decision, type LocalResponse } from '../../http/decision.js'
import type { Exchange } from '../../http/exchange.js'
import type { Phase } from '../../http/request-context.js'
import type { ResolvedLimits } from '../../wasm/limits.js'
import { PhaseBudget } from '../phase-budget.js'

/** What a paused request whose client went away settles with: nobody reads it (nginx's 499). */
const CLIENT_GONE: Decision = Object.freeze({ respond: true, response: Object.freeze({ status: 499, headers: {}, body: undefined }) as LocalResponse })

/** A request whose phase returned Pause, waiting for a later callback to resume or answer it. */
export interface Paused {
  readonly ex: Exchange
  readonly phase: Phase
  readonly withBody: boolean
  /** Its stream context. */
  readonly context: number
}

interface Held extends Paused {
  readonly resolve: (decision: Decision) => void
  readonly reject: (err: unknown) => void
}

/**
 * The request an instance holds paused (at most one: an instance serves one request at a time)
 * and its deadline: limits.timeoutMs from the pause, kept by the same PhaseBudget as a native
 * filter's waits (WAFER_ERR_FILTER_DEADLINE). Whoever settles it first wins; the others find
 * nothing held.
 */
export class PauseState {
  #held: Held | undefined
  readonly #budget: PhaseBudget

  constructor (filter: string, limits: Readonly<ResolvedLimits>) {
    this.#budget = new PhaseBudget(filter, limits)
  }

  /** The paused request, if any. */
  get current (): Paused | undefined {
    return this.#held
  }

  /** A new phase starts: its deadline is counted from its own pause. */
  reset (): void {
    this.#budget.reset()
  }

  /**
   * Holds the request until `resume`, `fail` or `abort`, or its deadline: then `expired` runs
   * (the instance, which still holds the request as paused in the guest, is discarded) and the
   * promise rejects with WAFER_ERR_FILTER_DEADLINE.
   */
  hold (paused: Paused, what: string, expired: () => void): Promise<Decision> {
    let resolve: (d: Decision) => void = () => {}
    let reject: (err: unknown) => void = () => {}
    const settled = new Promise<Decision>((yes, no) => { resolve = yes; reject = no })
    const held: Held = { ...paused, resolve, reject }
    this.#held = held
    return this.#budget.wait(settled, `a resume after ${what} paused`).then(() => settled, (err: unknown) => {
      if (this.#held === held) {
        this.#held = undefined
        expired()
      }
      throw err
    })
  }

  /** The paused request goes on (`response` undefined) or is answered with `response`. */
  resume (response: LocalResponse | undefined): void {
    const held = this.#take()
    held?.resolve(response === undefined ? CONTINUE : { respond: true, response })
  }

  /** A later callback closed the paused request's stream (`proxy_close_stream`). */
  close (): void {
    this.#take()?.resolve(CLOSE_STREAM)
  }

  /** The paused request fails with `err`. */
  fail (err: unknown): void {
    this.#take()?.reject(err)
  }

  /** The client of `ex` went away: its paused request settles without the guest. */
  abort (ex: Exchange): void {
    if (this.#held?.ex === ex) this.#take()?.resolve(CLIENT_GONE)
  }

  /** `ex` is over: nothing is held for it any more. */
  drop (ex: Exchange): void {
    if (this.#held?.ex === ex) this.#held = undefined
  }

  #take (): Held | undefined {
    const held = this.#held
    this.#held = undefined
    return held
  }
}
