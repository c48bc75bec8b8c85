import { waferError, type WaferError } from '../errors.js'

/** One problem in a config file: where (a JSON pointer), what was wrong, and the value found. */
export interface ConfigProblem {
  /** JSON pointer into the config, e.g. `/filters/auth/pool/max`; `""` is the whole file. */
  path: string
  /** What was expected, and what was found. */
  message: string
  /** The offending value (for an unknown key, its value; for a missing key, undefined). */
  value: unknown
}

/** A WAFER_ERR_CONFIG_INVALID error: every problem found, for programs to inspect, and the file. */
export type ConfigInvalidError = WaferError & { readonly errors: readonly ConfigProblem[], readonly file: string }

/** A WAFER_ERR_CONFIG_PARSE error, with the position of the syntax error when it is known. */
export type ConfigParseError = WaferError & { readonly file: string, readonly line?: number, readonly column?: number }

/** Lists beyond this are cut short in the message (`errors` keeps them all). */
const LISTED = 100

export function invalidConfig (source: string, problems: readonly ConfigProblem[]): ConfigInvalidError {
  const lines = problems.slice(0, LISTED).map((p) => `\n  - ${p.path === '' ? '(root)' : p.path}: ${p.message}`)
  if (problems.length > LISTED) lines.push(`\n  - ... and ${problems.length - LISTED} more`)
  const err = waferError('WAFER_ERR_CONFIG_INVALID', [source, lines.join('')])
  // The list is frozen, its problems are copies but not frozen: pino's error serializer takes an
  // `errors` array for an AggregateError's and tags each item while it walks it, which throws
  // on a frozen object (and so did every reload that logged a config error).
  return Object.assign(err, { errors: Object.freeze(problems.map((p) => ({ ...p }))), file: source })
}

export function parseError (file: string, reason: string, position?: { line: number, column: number }, cause?: unknown): ConfigParseError {
  const where = position === undefined ? file : `${file}:${position.line}:${position.column}`
  const err = waferError('WAFER_ERR_CONFIG_PARSE', [where, reason], cause === undefined ? undefined : { cause })
  return Object.assign(err, { file }, position === undefined ? {} : { line: position.line, column: position.column })
}

/** Appends one key to a JSON pointer, escaping `~` and `/` (RFC 6901). */
export function pointer (base: string, key: string | number): string {
  return `${base}/${String(key).replaceAll('~', '~0').replaceAll('/', '~1')}`
}

/** The offending value as short JSON for a message. */
export function show (value: unknown): string {
  let text: string
  if (typeof value === 'number' && !Number.isFinite(value)) text = String(value)
  else if (typeof value === 'function') text = 'a function'
  else if (typeof value === 'bigint') text = `${value}n`
  else {
    try {
      text = JSON.stringify(value) ?? String(value)
    } catch {
      text = Object.prototype.toString.call(value)
    }
  }
  return text.length > 60 ? `${text.slice(0, 57)}...` : text
}
