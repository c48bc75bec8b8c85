// Checks for header names and values, for validating a filter's configuration. Header names are
// ASCII tokens (RFC 9110), so no Unicode tables are needed.

// RFC 9110 tchar: letters, digits and !#$%&'*+-.^_`|~
function isTokenChar(c: u32): bool {
  if (c - 0x61 < 26 || c - 0x41 < 26 || c - 0x30 < 10) return true;
  return c == 0x21 || c == 0x23 || c == 0x24 || c == 0x25 || c == 0x26 || c == 0x27 || c == 0x2a ||
    c == 0x2b || c == 0x2d || c == 0x2e || c == 0x5e || c == 0x5f || c == 0x60 || c == 0x7c || c == 0x7e;
}

/** True if `name` is a valid header name (a non-empty HTTP token); use it to check config. */
export function isHeaderName(name: string): bool {
  const n = name.length;
  if (n == 0) return false;
  for (let i = 0; i < n; i++) if (!isTokenChar(<u32>name.charCodeAt(i))) return false;
  return true;
}

/**
 * True if `value` can be sent as a header value: an RFC 9110 field value (visible ASCII, space,
 * tab, U+0080-U+00FF). The host refuses anything else with WAFER_ERR_ABI_BAD_OUTPUT.
 */
export function isHeaderValue(value: string): bool {
  for (let i = 0, n = value.length; i < n; i++) {
    const c = value.charCodeAt(i);
    if (c == 0x09 || (c >= 0x20 && c <= 0x7e) || (c >= 0x80 && c <= 0xff)) continue;
    return false;
  }
  return true;
}
