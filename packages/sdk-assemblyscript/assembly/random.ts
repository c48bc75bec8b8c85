import { hostRandomFill } from "./host";

// The host fills at most this many bytes per call.
const MAX_FILL: i32 = 65536;

/** `n` cryptographically strong random bytes. */
export function randomBytes(n: i32): Uint8Array {
  const out = new Uint8Array(n);
  for (let done = 0; done < n; done += MAX_FILL) {
    const chunk = n - done < MAX_FILL ? n - done : MAX_FILL;
    hostRandomFill(out.dataStart + <usize>done, chunk);
  }
  return out;
}
