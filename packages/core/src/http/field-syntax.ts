/**
 * The field syntax of RFC 9110 section 5, checked where a filter's output becomes HTTP: a header
 * Node.js would refuse to write (it throws ERR_INVALID_CHAR, an uncoded 500 naming no filter)
 * must be refused before it is applied, as the filter's error. Client input that Node.js
 * accepted always passes these checks, so a filter that copies it through cannot fail them.
 */

/** token = 1*tchar (section 5.6.2). */
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/
/**
 * Anything outside field-value's characters (section 5.5): HTAB, SP, VCHAR and obs-text
 * (0x80-0xFF, which Node.js writes as Latin-1 bytes). Control characters (CR, LF and NUL
 * included), DEL, and every character above U+00FF (U+FFFD from invalid UTF-8 among them).
 */
// eslint-disable-next-line no-control-regex
const NOT_FIELD_CHAR = /[^\t\x20-\x7e\x80-\xff]/
/** A UTF-16 surrogate without its pair: a JSON `\ud800` escape decodes to one, UTF-8 cannot hold it. */
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/

export function isToken (name: string): boolean {
  return TOKEN.test(name)
}

/** Why `value` cannot be a field value, or undefined when it can. */
export function fieldValueProblem (value: string): string | undefined {
  // A loop answers the common short value faster than the regular expression does.
  let ok = true
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i)
    if ((c < 0x20 && c !== 0x09) || c === 0x7f || c > 0xff) { ok = false; break }
  }
  if (ok) return undefined
  const m = NOT_FIELD_CHAR.exec(value)
  if (m === null) return undefined
  const code = m[0].charCodeAt(0)
  const char = `U+${code.toString(16).toUpperCase().padStart(4, '0')}`
  const what = code === 0xfffd
    ? `${char} (what invalid UTF-8 decodes to)`
    : code < 0x20 || code === 0x7f ? `the control character ${char}` : `${char}, which is not Latin-1`
  return `contains ${what} at index ${m.index}; a field value allows visible ASCII, space, tab and obs-text (0x80-0xFF)`
}

/** Whether `text` can be encoded as UTF-8 unchanged (no lone surrogates). */
export function isWellFormedText (text: string): boolean {
  return !LONE_SURROGATE.test(text)
}
