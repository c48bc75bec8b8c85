import { format } from 'node:util'

/**
 * Every error a Wafer user can hit, in one table. Each code has an entry in docs/errors.md;
 * test/errors.test.ts keeps this table, the docs and the package exports in agreement.
 *
 * `status` is the HTTP status used when the error ends a request.
 */
export const errorTable = {
  WAFER_ERR_OPTIONS_INVALID: { status: 500, message: 'Invalid Wafer options: %s' },
  WAFER_ERR_CONFIG_READ: { status: 500, message: 'Cannot read config file %s: %s' },
  WAFER_ERR_CONFIG_PARSE: { status: 500, message: 'Cannot parse config file %s: %s' },
  WAFER_ERR_CONFIG_INVALID: { status: 500, message: 'Invalid config %s:%s' },
  WAFER_ERR_MODULE_READ: { status: 500, message: 'Cannot read filter module %s: %s' },
  WAFER_ERR_MODULE_INVALID: { status: 500, message: 'Filter module %s is not a valid WebAssembly module: %s' },
  WAFER_ERR_MODULE_LIMITS: { status: 500, message: 'Filter module %s cannot be sandboxed with its limits: %s' },
  WAFER_ERR_ABI_MISSING_VERSION: {
    status: 500,
    message: 'Filter module %s does not declare an ABI version: expected an exported function named wafer_abi_version_<N> (supported: %s)'
  },
  WAFER_ERR_ABI_VERSION: { status: 500, message: 'Filter module %s declares ABI %s; this host supports %s' },
  WAFER_ERR_ABI_UNSUPPORTED: { status: 500, message: 'Filter module %s speaks %s, which this host does not support yet' },
  WAFER_ERR_ABI_MISSING_EXPORT: { status: 500, message: 'Filter module %s does not export %s: expected %s' },
  WAFER_ERR_ABI_BAD_SIGNATURE: { status: 500, message: 'Filter module %s: %s has signature %s, expected %s' },
  WAFER_ERR_ABI_UNKNOWN_IMPORT: { status: 500, message: 'Filter module %s imports %s, which the host does not provide: %s' },
  WAFER_ERR_ABI_BAD_ACTION: { status: 503, message: 'Filter "%s" returned action %s from %s; expected 0 (continue), 1 (respond) or 2 (pause)' },
  WAFER_ERR_ABI_BAD_POINTER: { status: 503, message: 'Filter "%s" used an out-of-range pointer in %s: %s' },
  WAFER_ERR_ABI_BAD_OUTPUT: { status: 503, message: 'Filter "%s" produced invalid output in %s: %s' },
  WAFER_ERR_ABI_PAUSE_WITHOUT_PENDING: {
    status: 503,
    message: 'Filter "%s" returned pause from %s with no asynchronous operation pending; the request would never resume'
  },
  WAFER_ERR_CAPABILITY_DENIED: { status: 500, message: 'Filter module %s imports %s, which needs the "%s" capability; the filter is granted: %s' },
  WAFER_ERR_FILTER_INSTANTIATE: { status: 500, message: 'Filter "%s" (%s) could not be instantiated: %s' },
  WAFER_ERR_FILTER_CONFIG: { status: 500, message: 'Filter "%s" (%s) rejected its configuration: %s' },
  WAFER_ERR_FILTERS_FAILED: { status: 500, message: '%s of %s filters failed to load, each with its own error:%s' },
  WAFER_ERR_FILTER_TRAP: { status: 503, message: 'Filter "%s" trapped in %s: %s' },
  WAFER_ERR_FILTER_FUEL: { status: 503, message: 'Filter "%s" ran out of fuel in %s: one phase of a request may use %s (limits.fuel)' },
  WAFER_ERR_FILTER_MEMORY: { status: 503, message: 'Filter "%s" trapped in %s at its memory limit of %s pages (limits.memoryPages): %s' },
  WAFER_ERR_HTTP_CALL_FAILED: { status: 502, message: 'Filter "%s": HTTP call %s to %s failed: %s; the filter is answered with no headers and no body' },
  WAFER_ERR_FILTER_DEADLINE: { status: 503, message: 'Filter "%s" did not finish its phase within %s ms of its first wait; it was waiting for %s (limits.timeoutMs)' },
  WAFER_ERR_FILTER_RESUMES: { status: 503, message: 'Filter "%s" exceeded its budget of %s resumes in one phase: it %s (limits.maxResumes)' },
  WAFER_ERR_FILTER_CLOSED: { status: 503, message: 'Filter "%s" is closed' },
  WAFER_ERR_CIRCUIT_OPEN: { status: 503, message: 'Filter "%s" was not called: its circuit breaker opened after %s consecutive failures; a trial call goes through in %s ms' },
  WAFER_ERR_CHAIN_INVALID: { status: 500, message: 'Invalid chain %s: %s' },
  WAFER_ERR_POOL_EXHAUSTED: { status: 503, message: 'Filter "%s" has no free instance: %s' },
  WAFER_ERR_STATE: { status: 503, message: 'Key-value store operation %s failed for filter "%s": %s' },
  WAFER_ERR_BODY_TOO_LARGE: { status: 413, message: 'The request body exceeds the limit of %s bytes (bodyLimit)' },
  WAFER_ERR_RESPONSE_TOO_LARGE: { status: 500, message: 'The response body exceeds the %s bytes that response-body filters may read (responseBodyLimit)' },
  WAFER_ERR_RELOAD_ROUTES: { status: 500, message: 'Reload refused: config %s adds, removes or re-matches routes (%s). A reload can change what a route does (chain, upstream, timeout, local response); a change to which routes exist needs a restart' },
  WAFER_ERR_ADMIN_TOKEN: { status: 500, message: 'Cannot use the admin token (admin.token): %s' },
  WAFER_ERR_ADMIN_UNAUTHORIZED: { status: 401, message: '%s %s needs the admin token: %s' },
  WAFER_ERR_ADMIN_FORBIDDEN: {
    status: 403,
    message: '%s %s is refused: the admin listener is bound to %s, which is not a loopback address, and no admin.token is set. Set admin.token to allow it with "Authorization: Bearer <token>"; status and metrics stay readable'
  },
  WAFER_ERR_HEADERS_TOO_LARGE: { status: 431, message: 'The request headers exceed the limit of %s bytes (server.headerLimit)' },
  WAFER_ERR_BAD_PATH: { status: 400, message: 'The request path %s cannot be forwarded: %s' },
  WAFER_ERR_BAD_REQUEST_TARGET: { status: 400, message: 'The request target %s is refused before any filter runs: %s' },
  WAFER_ERR_UPSTREAM_UNAVAILABLE: { status: 502, message: 'Upstream %s could not be reached: %s' },
  WAFER_ERR_UPSTREAM_TIMEOUT: { status: 504, message: 'Upstream %s did not answer within %s ms' },
  WAFER_ERR_NOT_READY: { status: 503, message: '%s: the filters are still loading: %s' },
  WAFER_ERR_MIDDLEWARE_ORDER: { status: 500, message: '%s: %s' },
  WAFER_ERR_INTERNAL: { status: 500, message: 'Internal Wafer error in %s: %s' }
} as const satisfies Record<string, { status: number, message: string }>

export type WaferErrorCode = keyof typeof errorTable

/** The error class behind every coded Wafer error. */
export class WaferError extends Error {
  readonly code: WaferErrorCode
  /** HTTP status to answer with when this error ends a request. */
  readonly statusCode: number
  /** The filter involved, when there is one. */
  declare filter?: string

  constructor (code: WaferErrorCode, args: readonly unknown[], options?: { cause?: unknown, filter?: string }) {
    const def = errorTable[code]
    super(format(def.message, ...args), options?.cause === undefined ? undefined : { cause: options.cause })
    this.name = 'WaferError'
    this.code = code
    this.statusCode = def.status
    if (options?.filter !== undefined) this.filter = options.filter
  }
}

/** Creates a coded error; `args` fill the message template's `%s` slots in order. */
export function waferError (code: WaferErrorCode, args: readonly unknown[], options?: { cause?: unknown, filter?: string }): WaferError {
  return new WaferError(code, args, options)
}

/** A WAFER_ERR_FILTERS_FAILED error: each failing filter's own error, and the filters' names in the same order. */
export type FiltersFailedError = WaferError & { readonly errors: readonly unknown[], readonly filters: readonly string[] }

/**
 * The error for several filters that failed to load together (one that fails alone throws its
 * own error): the message lists every filter with its code and message, `errors` keeps each
 * error (as an AggregateError's does) and `filters` their names. `total` is how many were loading.
 */
export function filtersFailed (failures: ReadonlyArray<{ filter: string, error: unknown }>, total: number): FiltersFailedError {
  const lines = failures.map(({ filter, error }) => {
    const code = (error as { code?: unknown } | null)?.code
    const text = error instanceof Error ? error.message : String(error)
    return `\n  - "${filter}": ${typeof code === 'string' ? code : 'uncoded error'}: ${text.replaceAll('\n', '\n    ')}`
  })
  const err = waferError('WAFER_ERR_FILTERS_FAILED', [failures.length, total, lines.join('')])
  return Object.assign(err, { errors: Object.freeze(failures.map((f) => f.error)), filters: Object.freeze(failures.map((f) => f.filter)) })
}

export function isWaferError (err: unknown, code?: WaferErrorCode): err is WaferError {
  return err instanceof WaferError && (code === undefined || err.code === code)
}

/** A short, single-line description of any thrown value, for error messages. */
export function describe (err: unknown): string {
  if (err instanceof Error) return err.message.split('\n', 1)[0] ?? err.name
  return String(err)
}
