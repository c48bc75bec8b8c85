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
  /** For WAFER_ERR_FILTERS_FAILED: every filter that failed to load, with its own code and message. */
  filters?: Array<{ name: string, code: string, message: string }>
}

/** A failed reload's report: the error as plain data, every line of its message, every config problem and every failing filter. */
export function failedReport (err: unknown, generation: number, at: string, durationMs: number): ReloadReport {
  return { outcome: 'failed', at, durationMs, from: generation, to: generation, loaded: [], removed: [], error: reloadFailure(err) }
}

function reloadFailure (err: unknown): ReloadFailure {
  const e = (typeof err === 'object' && err !== null ? err : {}) as { code?: unknown, file?: unknown, errors?: unknown, filters?: unknown }
  const failure: ReloadFailure = { code: codeOf(err), message: messageOf(err) }
  if (typeof e.file === 'string') failure.file = e.file
  if (failure.code === 'WAFER_ERR_CONFIG_INVALID' && Array.isArray(e.errors)) {
    failure.problems = e.errors.map((p: { path?: unknown, message?: unknown }) => ({ path: String(p?.path), message: String(p?.message) }))
  }
  if (failure.code === 'WAFER_ERR_FILTERS_FAILED' && Array.isArray(e.errors) && Array.isArray(e.filters)) {
    const names = e.filters
    failure.filters = e.errors.map((x: unknown, i) => ({ name: String(names[i]), code: codeOf(x), message: messageOf(x) }))
  }
  return failure
}

function codeOf (err: unknown): string {
  const { code } = (typeof err === 'object' && err !== null ? err : {}) as { code?: unknown }
  return typeof code === 'string' ? code : 'WAFER_ERR_INTERNAL'
}

function messageOf (err: unknown): string {
  if (err instanceof Error) return err.message
  try {
    return String(err)
  } catch {
    return Object.prototype.toString.call(err)
  }
}

/**
 * An error as a fresh object for the log line: type, code, message, stack and causes. Without a
 * prototype, so pino's serializer takes `type` as it is instead of naming the constructor.
 */
export function loggable (err: unknown, depth = 0): unknown {
  if (!(err instanceof Error)) return Object.assign(Object.create(null) as object, { type: typeof err, message: messageOf(err) })
  const { code } = err as { code?: unknown }
  return Object.assign(Object.create(null) as object, {
    type: err.name,
    ...(typeof code === 'string' ? { code } : {}),
    message: err.message,
    stack: err.stack,
    ...(err.cause !== undefined && depth < 4 ? { cause: loggable(err.cause, depth + 1) } : {})
  })
}
