import { hostRandomFill } from "./host";

// The host fills at most this many bytes per call.
const MAX_FILL: i32 = 65536;

/** Fills `n` bytes at `ptr` with cryptographically strong random bytes. */
export function randomFill(ptr: usize, n: i32): void {
  for (let done = 0; done < n; done += MAX_FILL) {
    const chunk = n - done < MAX_FILL ? n - done : MAX_FILL;
    hostRandomFill(ptr + <usize>done, chunk);
  }
}

/** `n` cryptographically strong random bytes. */
export function randomBytes(n: i32): Uint8Array {
  const out = new Uint8Array(n);
  randomFill(out.dataStart, n);
  return out;
}
