/**
 * The request-target rule: one normal form of the path that the router, every filter and the
 * upstream all see, applied to what the client sent before any filter runs and to every path a
 * filter sets. Because both sides pass the same rule, a filter that passes the client's path
 * on can never fail it, and so no client can make a filter fail (and open its breaker) with a
 * hostile target. docs/config.md, "What the gateway forwards", states the rule for users.
 */

/** Why a target (or a filter's path or query) is refused. */
export interface TargetRefusal {
  readonly refused: string
}

function refuse (reason: string): TargetRefusal {
  return { refused: reason }
}

export function isRefusal (value: string | TargetRefusal): value is TargetRefusal {
  return typeof value !== 'string'
}

const SLASH = 47
const DOT = 46
const PERCENT = 37
const BACKSLASH = 92
const HASH = 35
const QUESTION = 63

/**
 * The path in normal form, or why it is refused. An ordinary path (`/api/items`) is returned
 * as it is, after one scan and without allocating.
 *
 * - It starts with `/` and holds only visible ASCII (no spaces, control characters or raw
 *   bytes above 0x7e), and no `\`, `#` or `?`.
 * - Percent-encoded unreserved characters (letters, digits, `-`, `.`, `_`, `~`) are decoded
 *   (RFC 3986 section 6.2.2.2), as Fastify's router does when it matches, so `%2e` is a dot.
 * - Refused: a malformed `%` escape, an encoded `/` or `\` (`%2f`, `%5c`), a double-encoded
 *   one or a double-encoded dot or `%` (`%252e`, `%252f`, `%255c`, `%2525`), and a `.` or `..`
 *   segment once decoded, also with `;` parameters (`..;x`).
 */
export function normalizePath (path: string): string | TargetRefusal {
  if (PLAIN_PATH.test(path)) return path
  const scan = scanPath(path, path.length)
  if (scan === PLAIN) return path
  return scan === SLOW ? normalizeEscapesAndDots(path) : scan
}

const PLAIN = 0
const SLOW = 1

// The common case in one regular expression (several times faster than a character loop in
// V8): segments of visible ASCII without `%`, `\`, `#` or `?`, none starting with a dot, and a
// query of visible ASCII without `#`. Each repetition consumes a `/`, so it cannot backtrack.
const SEGMENTS = String.raw`(?:\/(?:[^./?#%\\\x00-\x20\x7f-\uffff][^/?#%\\\x00-\x20\x7f-\uffff]*)?)+`
const PLAIN_PATH = new RegExp(`^${SEGMENTS}$`)
const PLAIN_TARGET = new RegExp(`^${SEGMENTS}(?:\\?[^#\\x00-\\x20\\x7f-\\uffff]*)?$`)

/** One pass over `s[0, end)`: plain, needs the slow path (escapes, dots), or refused. */
function scanPath (s: string, end: number): typeof PLAIN | typeof SLOW | TargetRefusal {
  if (s.charCodeAt(0) !== SLASH) return refuse('the path must start with "/"')
  let slow = false
  for (let i = 0; i < end; i++) {
    const c = s.charCodeAt(i)
    if (c <= 0x20 || c >= 0x7f) return refuse('the path may hold only visible ASCII characters (no spaces, control characters or raw non-ASCII bytes)')
    if (c === BACKSLASH) return refuse('the path may not contain "\\"')
    if (c === HASH) return refuse('a request target may not carry a fragment ("#")')
    if (c === QUESTION) return refuse('the path may not contain "?"')
    if (c === PERCENT || (c === DOT && s.charCodeAt(i - 1) === SLASH)) slow = true
  }
  return slow ? SLOW : PLAIN
}

/** The query string (without `?`) is refused if it holds anything but visible ASCII, or a `#`. */
export function queryRefusal (query: string, from = 0): TargetRefusal | undefined {
  for (let i = from; i < query.length; i++) {
    const c = query.charCodeAt(i)
    if (c <= 0x20 || c >= 0x7f) return refuse('the query may hold only visible ASCII characters (no spaces, control characters or raw non-ASCII bytes)')
    if (c === HASH) return refuse('a request target may not carry a fragment ("#")')
  }
  return undefined
}

/**
 * The client's request target (`path?query`) in normal form, or why it is refused. An
 * absolute-form target (`http://host/path?query`, RFC 9112 section 3.2.2) is reduced to its
 * path and query, which is also what Fastify's router matches on; its authority is ignored.
 * Any other form that does not start with `/` (`*`, `host:port`) is refused.
 */
export function normalizeRequestTarget (url: string): string | TargetRefusal {
  if (PLAIN_TARGET.test(url)) return url
  if (url.charCodeAt(0) !== SLASH) {
    const origin = originForm(url)
    if (origin === undefined) return refuse('the request target must be a path starting with "/" or an absolute http(s) URL')
    return normalizeRequestTarget(origin)
  }
  const q = url.indexOf('?')
  const end = q === -1 ? url.length : q
  const scan = scanPath(url, end)
  if (typeof scan !== 'number') return scan
  if (q !== -1) {
    const bad = queryRefusal(url, q + 1)
    if (bad !== undefined) return bad
  }
  if (scan === PLAIN) return url
  const path = normalizeEscapesAndDots(url.slice(0, end))
  return isRefusal(path) || q === -1 ? path : path + url.slice(q)
}

/** `http(s)://authority[/path][?query]` -> `/path[?query]`; undefined for any other form. */
function originForm (url: string): string | undefined {
  const m = /^https?:\/\/[^/?#\\]+/i.exec(url)
  if (m === null) return undefined
  const rest = url.slice(m[0].length)
  return rest.charCodeAt(0) === SLASH ? rest : `/${rest}`
}

const HEX = /^[0-9A-Fa-f]{2}$/
const UNRESERVED = /^[A-Za-z0-9\-._~]$/
const FORBIDDEN_ESCAPE = /%(?:2f|5c|25(?:2e|2f|5c|25))/i
// `..;x` is `..` to servers that strip path parameters (Tomcat and others behind a proxy).
const DOT_PARAMS = /^\.\.?(?:;|%3b)/i

function normalizeEscapesAndDots (path: string): string | TargetRefusal {
  let out = path
  if (path.includes('%')) {
    out = ''
    let from = 0
    for (let i = path.indexOf('%'); i !== -1; i = path.indexOf('%', i + 1)) {
      const hex = path.slice(i + 1, i + 3)
      if (!HEX.test(hex)) return refuse('the path has a "%" that does not start a percent-encoded byte')
      const char = String.fromCharCode(parseInt(hex, 16))
      if (!UNRESERVED.test(char)) continue
      out += path.slice(from, i) + char
      from = i + 3
    }
    out += path.slice(from)
    if (FORBIDDEN_ESCAPE.test(out)) return refuse('the path may not contain an encoded "/" or "\\" (%2F, %5C) or a double-encoded "/", "\\", "." or "%"')
  }
  for (const segment of out.split('/')) {
    if (segment === '.' || segment === '..' || DOT_PARAMS.test(segment)) {
      return refuse('the path may not contain "." or ".." segments (also when percent-encoded or followed by ";" parameters)')
    }
  }
  return out
}
