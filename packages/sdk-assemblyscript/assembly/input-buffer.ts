// The input JSON of the current phase. It normally lives in wafer_alloc's scratch buffer, which
// the host overwrites with the next input; when a phase pauses, the host writes async results
// there while the request must stay readable, so the input is copied out once (pause is the
// slow path anyway) and released when the next phase begins.

export class InputBuffer {
  ptr: usize = 0;
  len: i32 = 0;
  private owned: usize = 0;

  @inline
  get end(): usize {
    return this.ptr + <usize>this.len;
  }

  bind(ptr: usize, len: i32): void {
    this.release();
    this.ptr = ptr;
    this.len = len < 0 ? 0 : len;
  }

  /** Moves the input out of the scratch buffer into memory of its own. */
  preserve(): void {
    if (this.owned != 0 || this.len == 0) return;
    const copy = heap.alloc(<usize>this.len);
    memory.copy(copy, this.ptr, <usize>this.len);
    this.ptr = copy;
    this.owned = copy;
  }

  release(): void {
    if (this.owned == 0) return;
    heap.free(this.owned);
    this.owned = 0;
  }
}
