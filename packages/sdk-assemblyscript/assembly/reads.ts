// Reads from the host into the read buffer (docs/abi.md section 3: a read returns the full
// length and writes only when the value fits). A value bigger than the buffer grows it once and
// is read again; the buffer keeps that size, so the next such value is read in one call.
// Each returns the length, with the bytes at readBuffer(), or a negative result code.
import { hostGet, hostHeaderGet, hostHeaderNames, hostHeaderValues } from "./host";
import { nameBytes } from "./names";
import { growRead, readBuffer, readCapacity } from "./scratch";

export function readField(field: i32): i32 {
  let n = hostGet(field, readBuffer(), readCapacity());
  while (n > readCapacity()) {
    growRead(n);
    n = hostGet(field, readBuffer(), readCapacity());
  }
  return n;
}

/** Header `name` of `map`, several values joined with ", "; NOT_FOUND (-4) when absent. */
export function readHeader(map: i32, name: string): i32 {
  const len = name.length;
  const namePtr = nameBytes(name);
  let n = hostHeaderGet(map, namePtr, len, readBuffer(), readCapacity());
  while (n > readCapacity()) {
    growRead(n);
    n = hostHeaderGet(map, namePtr, len, readBuffer(), readCapacity());
  }
  return n;
}

/** Every value of header `name` of `map`, each followed by a NUL byte; NOT_FOUND when absent. */
export function readHeaderValues(map: i32, name: string): i32 {
  const len = name.length;
  const namePtr = nameBytes(name);
  let n = hostHeaderValues(map, namePtr, len, readBuffer(), readCapacity());
  while (n > readCapacity()) {
    growRead(n);
    n = hostHeaderValues(map, namePtr, len, readBuffer(), readCapacity());
  }
  return n;
}

/** The names in `map`, each followed by a NUL byte. */
export function readHeaderNames(map: i32): i32 {
  let n = hostHeaderNames(map, readBuffer(), readCapacity());
  while (n > readCapacity()) {
    growRead(n);
    n = hostHeaderNames(map, readBuffer(), readCapacity());
  }
  return n;
}

/** Length of header `name` in `map` without reading it (cap 0); NOT_FOUND when absent. */
export function headerLength(map: i32, name: string): i32 {
  return hostHeaderGet(map, nameBytes(name), name.length, readBuffer(), 0);
}
