import { hostRandomFill } from "./host";

// The host fills at most this many bytes per call.
const MAX_FILL: i32 = 65536;
const HEX = "0123456789abcdef";
// Scratch for randomUuid's 16 random bytes: static, nothing allocated but the result.
const UUID_BYTES: usize = memory.data(16, 16);

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

/**
 * A random UUID (version 4, RFC 9562 section 5.4: 122 random bits, version 4, variant 10) in
 * its 36-character lower-case form. One host call and one string: the only allocation is the
 * result.
 */
export function randomUuid(): string {
  randomFill(UUID_BYTES, 16);
  store<u8>(UUID_BYTES + 6, (load<u8>(UUID_BYTES + 6) & 0x0f) | 0x40);
  store<u8>(UUID_BYTES + 8, (load<u8>(UUID_BYTES + 8) & 0x3f) | 0x80);
  const out = changetype<string>(__new(36 << 1, idof<string>()));
  const dst = changetype<usize>(out);
  const hex = changetype<usize>(HEX);
  let at: usize = 0;
  for (let i: usize = 0; i < 16; i++) {
    if (i == 4 || i == 6 || i == 8 || i == 10) {
      store<u16>(dst + (at << 1), 0x2d); // "-"
      at++;
    }
    const b = <usize>load<u8>(UUID_BYTES + i);
    store<u16>(dst + (at << 1), load<u16>(hex + ((b >> 4) << 1)));
    store<u16>(dst + ((at + 1) << 1), load<u16>(hex + ((b & 0x0f) << 1)));
    at += 2;
  }
  return out;
}
