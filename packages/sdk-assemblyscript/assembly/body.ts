// Request and response bodies (fields REQUEST_BODY and RESPONSE_BODY): bytes, read only when the
// filter declared it needs them. An absent or empty body reads as null.
import { UNAVAILABLE } from "./abi";
import { base64Encode } from "./crypto";
import { hostSet } from "./host";
import { readField } from "./reads";
import { readBuffer, valueBuffer } from "./scratch";
import { isUtf8, putUtf8 } from "./text";

function bytesAt(n: i32): Uint8Array {
  const out = new Uint8Array(n);
  memory.copy(out.dataStart, readBuffer(), <usize>n);
  return out;
}

/** The body as text; null when absent, empty, not UTF-8 or not declared. */
export function bodyText(field: i32): string | null {
  const n = readField(field);
  if (n <= 0 || !isUtf8(readBuffer(), n)) return null;
  return String.UTF8.decodeUnsafe(readBuffer(), <usize>n);
}

/** The body in base64 when it is not UTF-8, else null. */
export function bodyBase64(field: i32): string | null {
  const n = readField(field);
  if (n <= 0 || isUtf8(readBuffer(), n)) return null;
  return base64Encode(bytesAt(n));
}

/** The body's bytes; null when absent, empty or not declared. */
export function bodyBytes(field: i32): Uint8Array | null {
  const n = readField(field);
  return n > 0 ? bytesAt(n) : null;
}

function written(rc: i32, what: string): void {
  if (rc == UNAVAILABLE) abort(what + " needs the filter to declare it: return true from " +
    (what == "req.setBody" ? "needsRequestBody()" : "needsResponseBody()"));
}

export function setBodyText(field: i32, body: string, what: string): void {
  const n = putUtf8(body);
  written(hostSet(field, valueBuffer(0), n), what);
}

export function setBodyBytes(field: i32, body: Uint8Array, what: string): void {
  written(hostSet(field, body.dataStart, body.length), what);
}
