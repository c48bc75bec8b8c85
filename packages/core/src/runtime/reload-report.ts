/** What a reload did; kept as the runtime's `lastReload` and reported to observers. */
export interface ReloadReport {
  /** `applied`: a new generation serves; `unchanged`: nothing differed; `failed`: the old one keeps serving. */
  outcome: 'applied' | 'unchanged' | 'failed'
  /** When the reload started (ISO 8601). */
  at: string
  durationMs: number
  /** Generation ids before and after (equal unless applied). */
  from: number
  to: number
  /** Filters loaded anew (changed or added); unchanged filters are reused as they are. */
  loaded: string[]
  /** Filters the new generation no longer has. */
  removed: string[]
  /** Module sha256 prefixes by filter, before and after (applied reloads). */
  hashes?: { before: Record<string, string>, after: Record<string, string> }
  /**
   * Settings the new definition changes that a reload does not apply (config keys such as
   * `reload.watch` or `admin.host`, read at startup only): they take effect after a restart.
   */
  restartRequired?: string[]
  /** Why it failed. */
  error?: ReloadFailure
}

/** Why a reload failed: plain data, safe to log and to send as JSON. */
export interface ReloadFailure {
  /** A `WAFER_ERR_*` code (`WAFER_ERR_INTERNAL` for an error without one). */
  code: string
  /** The whole message, every line of it (a config error lists each problem on a line). */
  message: string
  /** The config file involved, when the error names one. */
  file?: string
  /** For WAFER_ERR_CONFIG_INVALID: every problem, with its JSON path. */
  problems?: Array<{ path: string, message: string }>
}
