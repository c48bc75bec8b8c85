// wafer_alloc's buffer. The host calls wafer_alloc before every input and never reads the
// bytes again, so one buffer is reused for every call and only grows; no per-request
// allocation happens on the way in.

const MIN_CAPACITY: usize = 1024;

let scratchPtr: usize = 0;
let scratchCapacity: usize = 0;

/** Returns at least `size` writable bytes, reusing the previous buffer when it is big enough. */
export function allocScratch(size: i32): usize {
  const need: usize = size > 0 ? <usize>size : 1;
  if (need > scratchCapacity) {
    let capacity = scratchCapacity > MIN_CAPACITY ? scratchCapacity : MIN_CAPACITY;
    while (capacity < need) capacity <<= 1;
    if (scratchPtr != 0) heap.free(scratchPtr);
    scratchPtr = heap.alloc(capacity);
    scratchCapacity = capacity;
  }
  return scratchPtr;
}
