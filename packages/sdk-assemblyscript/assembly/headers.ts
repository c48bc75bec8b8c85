// Header operations on one of the host's header maps (docs/abi.md section 4), shared by
// Request, RequestView, Response and local replies. Names go to the host lower-cased from the
// name buffer, values one byte per character from the value buffer; only the reads that return
// a string allocate, and only that string.
import { ByteBuffer } from "./bytes";
import { hostHeaderAdd, hostHeaderGet, hostHeaderRemove, hostHeaderSet } from "./host";
import { headerLength, readHeader, readHeaderNames, readHeaderValues } from "./reads";
import { nameBytes } from "./names";
import { readBuffer, valueBuffer } from "./scratch";
import { equalsLatin1, latin1String, putLatin1 } from "./text";

export function headerString(map: i32, name: string): string | null {
  const n = readHeader(map, name);
  return n >= 0 ? latin1String(readBuffer(), n) : null;
}

/**
 * Appends header `name` of `map` (values joined with ", ") to `out`, the host writing straight
 * into its spare room; false (and `out` unchanged) when absent.
 */
export function headerAppend(map: i32, name: string, out: ByteBuffer): bool {
  const len = name.length;
  const namePtr = nameBytes(name);
  let n = hostHeaderGet(map, namePtr, len, out.dataStart + <usize>out.length, out.spare);
  if (n > out.spare) {
    out.reserve(n);
    n = hostHeaderGet(map, namePtr, len, out.dataStart + <usize>out.length, out.spare);
  }
  if (n < 0) return false;
  out.grew(n);
  return true;
}

export function setHeaderBytesIn(map: i32, name: string, value: ByteBuffer): i32 {
  return hostHeaderSet(map, nameBytes(name), name.length, value.dataStart, value.length);
}

export function headerPresent(map: i32, name: string): bool {
  return headerLength(map, name) >= 0;
}

/** True if header `name` is present with exactly `value` (joined values compared as one). */
export function headerEquals(map: i32, name: string, value: string): bool {
  const n = readHeader(map, name);
  return n >= 0 && equalsLatin1(value, readBuffer(), n);
}

// Splits `n` bytes of NUL-terminated items in the read buffer into strings.
function splitNul(n: i32): string[] {
  const out = new Array<string>(0);
  const buf = readBuffer();
  let start = 0;
  for (let i = 0; i < n; i++) {
    if (load<u8>(buf + <usize>i) != 0) continue;
    out.push(latin1String(buf + <usize>start, i - start));
    start = i + 1;
  }
  return out;
}

export function headerValuesOf(map: i32, name: string): string[] {
  const n = readHeaderValues(map, name);
  return n >= 0 ? splitNul(n) : new Array<string>(0);
}

export function headerNamesOf(map: i32): string[] {
  const n = readHeaderNames(map);
  return n >= 0 ? splitNul(n) : new Array<string>(0);
}

export function setHeaderIn(map: i32, name: string, value: string): i32 {
  const valueLen = putLatin1(value);
  return hostHeaderSet(map, nameBytes(name), name.length, valueBuffer(0), valueLen);
}

export function addHeaderIn(map: i32, name: string, value: string): i32 {
  const valueLen = putLatin1(value);
  return hostHeaderAdd(map, nameBytes(name), name.length, valueBuffer(0), valueLen);
}

/** Replaces every value of `name` with `values` (none: removes it). */
export function setHeaderValuesIn(map: i32, name: string, values: string[]): i32 {
  if (values.length == 0) return removeHeaderIn(map, name);
  let rc = setHeaderIn(map, name, unchecked(values[0]));
  for (let i = 1; i < values.length && rc >= 0; i++) rc = addHeaderIn(map, name, unchecked(values[i]));
  return rc;
}

export function removeHeaderIn(map: i32, name: string): i32 {
  return hostHeaderRemove(map, nameBytes(name), name.length);
}
