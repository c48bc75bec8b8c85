// The SDK's buffers. The host writes every read into a buffer the guest supplies, and takes
// every write from guest memory, so three static buffers serve all requests: nothing is
// allocated per request on the SDK's own paths. A buffer grows (and stays grown) only when a
// value is bigger than it; the static area it started in is simply no longer used.
//
//   read:  what the host returns (a header value, the path, a body)
//   name:  the bytes of a header name or a kv key being passed to the host
//   value: the bytes of a header value, path, body or log line being passed to the host

const READ_STATIC: i32 = 8192;
const NAME_STATIC: i32 = 256;
const VALUE_STATIC: i32 = 4096;

let readPtr: usize = memory.data(READ_STATIC, 16);
let readCap: i32 = READ_STATIC;
let readOwned = false;

let namePtr: usize = memory.data(NAME_STATIC, 16);
let nameCap: i32 = NAME_STATIC;
let nameOwned = false;

let valuePtr: usize = memory.data(VALUE_STATIC, 16);
let valueCap: i32 = VALUE_STATIC;
let valueOwned = false;

// A capacity of at least `need`: double until it fits.
function grown(cap: i32, need: i32): i32 {
  let c = cap;
  while (c < need) c <<= 1;
  return c;
}

@inline export function readBuffer(): usize { return readPtr; }
@inline export function readCapacity(): i32 { return readCap; }

/** Makes the read buffer hold at least `need` bytes (its old contents are dropped). */
export function growRead(need: i32): void {
  if (need <= readCap) return;
  const cap = grown(readCap, need);
  if (readOwned) heap.free(readPtr);
  readPtr = heap.alloc(<usize>cap);
  readCap = cap;
  readOwned = true;
}

/** The name buffer, with room for at least `need` bytes. */
export function nameBuffer(need: i32): usize {
  if (need > nameCap) {
    const cap = grown(nameCap, need);
    if (nameOwned) heap.free(namePtr);
    namePtr = heap.alloc(<usize>cap);
    nameCap = cap;
    nameOwned = true;
  }
  return namePtr;
}

/** The value buffer, with room for at least `need` bytes. */
export function valueBuffer(need: i32): usize {
  if (need > valueCap) {
    const cap = grown(valueCap, need);
    if (valueOwned) heap.free(valuePtr);
    valuePtr = heap.alloc(<usize>cap);
    valueCap = cap;
    valueOwned = true;
  }
  return valuePtr;
}
