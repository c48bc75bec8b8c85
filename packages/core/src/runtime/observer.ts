import type { ReloadReport } from './reload-report.js'

/** One filter call, as reported to a `WaferObserver`. */
export interface FilterCallEvent {
  filter: string
  phase: 'request' | 'response'
  /** `error` when the call failed; the failure policy then decided the request. `close`: the filter closed the stream. */
  outcome: 'continue' | 'respond' | 'close' | 'error'
  /** Wall time of the call including any asynchronous wait, in milliseconds. */
  durationMs: number
  /** The error code when `outcome` is `error`. */
  errorCode?: string
}

/**
 * Receives what happens inside the runtime, for metrics and tracing. Timing is measured only
 * when an observer is set, so applications without one pay nothing for it. Observers must not
 * throw; an observer that does is a bug in the observer and is logged, not propagated.
 */
export interface WaferObserver {
  onFilterCall? (event: FilterCallEvent): void
  onReload? (report: ReloadReport): void
}
