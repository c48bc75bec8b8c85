// Quoting a string for JSON text an author builds by hand (a response body, say).

const HEX = "0123456789abcdef";

/**
 * `value` as a quoted JSON string: `"` and `\` escaped, control characters as \u00XX, lone
 * surrogates replaced by U+FFFD so the text is always valid UTF-8.
 */
export function jsonString(value: string): string {
  let plain = true;
  for (let i = 0, n = value.length; i < n; i++) {
    const c = <u32>value.charCodeAt(i);
    if (c < 0x20 || c == 0x22 || c == 0x5c || (c >= 0xd800 && c <= 0xdfff)) {
      plain = false;
      break;
    }
  }
  if (plain) return "\"" + value + "\"";
  const parts = new Array<string>(0);
  parts.push("\"");
  for (let i = 0, n = value.length; i < n; i++) {
    const c = <u32>value.charCodeAt(i);
    if (c == 0x22) parts.push("\\\"");
    else if (c == 0x5c) parts.push("\\\\");
    else if (c == 0x0a) parts.push("\\n");
    else if (c == 0x0d) parts.push("\\r");
    else if (c == 0x09) parts.push("\\t");
    else if (c < 0x20) parts.push("\\u00" + HEX.charAt(c >> 4) + HEX.charAt(c & 0xf));
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < n && <u32>value.charCodeAt(i + 1) - 0xdc00 < 0x400) {
      parts.push(value.substring(i, i + 2));
      i++;
    } else if (c >= 0xd800 && c <= 0xdfff) parts.push("\ufffd");
    else parts.push(String.fromCharCode(c));
  }
  parts.push("\"");
  return parts.join("");
}
