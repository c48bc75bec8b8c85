// Header names as bytes at a stable address of their own. Filters pass the same few names on
// every request, mostly string literals; the host keeps the last name it decoded at each address
// (docs/abi.md leaves it free to), so a name that always arrives from the same address is
// decoded and checked by the host once. The table maps a string's address to a slot of encoded
// bytes: a literal (below __heap_base, immutable, never freed) is encoded once and then costs
// one compare; a heap string is encoded again on every call, into its slot, since the address
// of a freed string can be reused by another. Names longer than a slot go through the name
// buffer.
import { nameBuffer } from "./scratch";

const SLOTS: i32 = 64;
const SLOT_BYTES: i32 = 64;
// An odd stride gives each slot a different low byte of address (the host indexes by it).
const STRIDE: usize = 65;
// How many slots a name may look at before it takes one over.
const PROBES: i32 = 4;

const arena: usize = memory.data(SLOTS * <i32>STRIDE);
const owners: usize = memory.data(SLOTS * sizeof<usize>(), 16); // the string each slot holds

// Lower-cased ASCII, one byte per character; anything else becomes NUL, which the host refuses.
@inline
function encodeName(src: usize, n: i32, dst: usize): void {
  for (let i = 0; i < n; i++) {
    const c = <u32>load<u16>(src + (<usize>i << 1));
    store<u8>(dst + <usize>i, <u8>(c - 0x41 < 26 ? c + 0x20 : (c < 0x80 ? c : 0)));
  }
}

@inline
function ownerAt(slot: i32): usize {
  return load<usize>(owners + (<usize>slot << alignof<usize>()));
}

/** The address of `name`'s bytes (its length is name.length). Valid until the next name. */
export function nameBytes(name: string): usize {
  const src = changetype<usize>(name);
  const n = name.length;
  if (n > SLOT_BYTES) {
    const buf = nameBuffer(n);
    encodeName(src, n, buf);
    return buf;
  }
  const home = <i32>((<u32>(src >>> 2) * 0x9e3779b1) >>> 26); // 6 bits: SLOTS = 64
  let slot = home;
  for (let i = 0; i < PROBES; i++) {
    const s = (home + i) & (SLOTS - 1);
    const owner = ownerAt(s);
    if (owner == src) {
      const at = arena + <usize>s * STRIDE;
      if (src < __heap_base) return at;
      encodeName(src, n, at);
      return at;
    }
    if (owner == 0) {
      slot = s;
      break;
    }
  }
  store<usize>(owners + (<usize>slot << alignof<usize>()), src);
  const at = arena + <usize>slot * STRIDE;
  encodeName(src, n, at);
  return at;
}
