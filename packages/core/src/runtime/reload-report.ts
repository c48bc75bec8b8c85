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
  /** Why it failed. */
  error?: { code: string, message: string }
}
