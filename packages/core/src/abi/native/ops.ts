/** The result of an async host operation, as `wafer_on_resume` receives it (docs/abi.md section 3). */
export interface OpResult {
  status: number
  data?: Uint8Array
}

/**
 * An async host operation started by an import. Operations that complete synchronously (the
 * in-memory store) carry their result at once and no promise, so they are delivered in the
 * same tick.
 */
export interface Op {
  token: number
  name: string
  result: OpResult | undefined
  error: unknown
  /** Present while the operation is still in flight; resolves (never rejects) when it settles. */
  promise: Promise<void> | undefined
}

export function startOp (token: number, name: string, exec: () => OpResult | Promise<OpResult>): Op {
  const op: Op = { token, name, result: undefined, error: undefined, promise: undefined }
  try {
    const r = exec()
    if (r instanceof Promise) {
      op.promise = r.then(
        (value) => { op.result = value; op.promise = undefined },
        (err: unknown) => { op.error = err ?? new Error('store operation failed'); op.promise = undefined }
      )
    } else {
      op.result = r
    }
  } catch (err) {
    op.error = err
  }
  return op
}
