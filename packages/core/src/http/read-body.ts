import type { Readable } from 'node:stream'
import type { WaferError } from '../errors.js'

/** What reading a body came to: the bytes, more than the limit, or a stream that failed or closed before its end. */
export type BodyResult = { body: Buffer } | { tooLarge: WaferError } | { aborted: Error | undefined }

export interface ReadBodyOptions {
  /** The error for a body over the limit. */
  tooLarge: () => WaferError
  /** The declared length (`content-length`): over the limit, the body is refused before anything is read. */
  declared?: string | undefined
  /**
   * Answer only once the stream has closed. Node.js destroys a request that ended and emits its
   * 'close' a tick later: a caller that makes the same request readable again must wait for it,
   * or the new stream is destroyed too, or gets the old one's 'close' (which makes body parsers
   * stop reading).
   */
  afterClose?: boolean
}

/**
 * Reads a whole stream (a request body, or a reply a route streams) up to `limit` bytes, for
 * filters that need it; each adapter decides what to answer. Over the limit, the rest is
 * drained, not kept, so a client can finish sending and read the answer, as Node.js does for a
 * request nobody reads. An 'error', or a 'close' before the end (the client went away), aborts.
 */
export function readBody (stream: Readable, limit: number, options: ReadBodyOptions, cb: (result: BodyResult) => void): void {
  const tooLarge = (): BodyResult => {
    stream.resume()
    return { tooLarge: options.tooLarge() }
  }
  if (Number(options.declared) > limit) {
    cb(tooLarge())
    return
  }
  const chunks: Buffer[] = []
  let size = 0
  let finished = false
  const finish = (result: BodyResult): void => {
    if (finished) return
    finished = true
    stream.removeListener('data', onData)
    stream.removeListener('end', onEnd)
    stream.removeListener('error', onError)
    stream.removeListener('close', onClose)
    cb(result)
  }
  const onData = (chunk: Buffer | string): void => {
    const buf = typeof chunk === 'string' ? Buffer.from(chunk) : chunk
    size += buf.length
    if (size > limit) finish(tooLarge())
    else chunks.push(buf)
  }
  const onEnd = (): void => {
    // A body that came in one chunk (most under 64 KB do) is that chunk: the stream handed it
    // over (Node.js copies request body chunks out of the socket's buffer), so it is not copied again.
    const body = chunks.length === 1 ? chunks[0] as Buffer : Buffer.concat(chunks, size)
    const state = (stream as unknown as { _readableState?: { autoDestroy?: boolean } })._readableState
    if (options.afterClose !== true || state?.autoDestroy === false) finish({ body })
    else {
      stream.removeListener('close', onClose)
      stream.once('close', () => { finish({ body }) })
    }
  }
  const onError = (err: Error): void => { finish({ aborted: err }) }
  const onClose = (): void => { finish({ aborted: undefined }) }
  stream.on('data', onData)
  stream.on('end', onEnd)
  stream.on('error', onError)
  stream.on('close', onClose)
}
