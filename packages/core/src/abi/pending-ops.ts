/**
 * Host operations a guest started whose answers arrive later (a Redis store, later an HTTP
 * callout), in the order they were started: any ABI's glue queues them here and delivers each
 * result into the guest before it resumes the guest. Operations answered at once never enter
 * the queue.
 */
export interface PendingOp {
  token: number
  name: string
  /** Present while the answer is on its way; resolves (never rejects) when it arrives. */
  promise: Promise<void> | undefined
  /** Set when the operation failed. */
  error: unknown
  /** Writes the answer where the guest asked for it. */
  deliver: () => void
}

export class PendingOps {
  readonly #queue: PendingOp[] = []
  #nextToken = 1

  /** Queues `answer`; `deliver` receives its value when the guest is about to resume. Returns the token (> 0). */
  add<T> (name: string, answer: Promise<T>, deliver: (value: T) => void): number {
    const token = this.#nextToken
    this.#nextToken = token >= 0x7fffffff ? 1 : token + 1
    let value: T
    const op: PendingOp = { token, name, promise: undefined, error: undefined, deliver: () => { deliver(value) } }
    op.promise = answer.then(
      (v) => { value = v; op.promise = undefined },
      (err: unknown) => { op.error = err ?? new Error(`${name} failed`); op.promise = undefined }
    )
    this.#queue.push(op)
    return token
  }

  /** The oldest operation, taken off the queue. */
  next (): PendingOp | undefined {
    return this.#queue.shift()
  }

  clear (): void {
    if (this.#queue.length !== 0) this.#queue.length = 0
  }
}
