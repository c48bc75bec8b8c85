import type { IncomingMessage } from 'node:http'
import { Readable } from 'node:stream'
import { WaferError } from '@wafer/core'

/** What reading the body came to: the bytes, a body over the limit, or a client that went away. */
export type BodyResult = { body: Buffer } | { tooLarge: WaferError } | { aborted: true }

/**
 * Reads the whole request body, up to `limit` bytes. A declared `content-length` over the
 * limit is refused before reading anything. On a body over the limit, the rest of the request
 * is drained (not read into memory) so the client can finish sending and read the 413, as
 * Node.js does for a request nobody reads.
 */
export function readBody (req: IncomingMessage, limit: number, cb: (result: BodyResult) => void): void {
  const tooLarge = (): BodyResult => {
    req.resume()
    return { tooLarge: new WaferError('WAFER_ERR_BODY_TOO_LARGE', [limit]) }
  }
  const declared = Number(req.headers['content-length'])
  if (declared > limit) {
    cb(tooLarge())
    return
  }
  const chunks: Buffer[] = []
  let size = 0
  let finished = false
  const finish = (result: BodyResult): void => {
    if (finished) return
    finished = true
    req.removeListener('data', onData)
    req.removeListener('end', onEnd)
    req.removeListener('error', onAbort)
    req.removeListener('close', onClose)
    cb(result)
  }
  const onData = (chunk: Buffer | string): void => {
    const buf = typeof chunk === 'string' ? Buffer.from(chunk) : chunk
    size += buf.length
    if (size > limit) finish(tooLarge())
    else chunks.push(buf)
  }
  const onEnd = (): void => {
    const body = Buffer.concat(chunks, size)
    // Node.js destroys a request that ended and emits its 'close' a tick later. Restreamed
    // before that, the new stream would be destroyed too, or get the old one's 'close' (which
    // makes body parsers stop reading): wait for it.
    const state = (req as unknown as { _readableState?: { autoDestroy?: boolean } })._readableState
    if (state?.autoDestroy === false) finish({ body })
    else {
      req.removeListener('close', onClose)
      req.once('close', () => { finish({ body }) })
    }
  }
  const onAbort = (): void => { finish({ aborted: true }) }
  // 'close' before 'end': the client went away.
  const onClose = (): void => { onAbort() }
  req.on('data', onData)
  req.on('end', onEnd)
  req.on('error', onAbort)
  req.on('close', onClose)
}

/**
 * Makes the request readable again, holding `body`, so that later middleware (express.json(),
 * express.text(), multer, `for await (const chunk of req)`) reads what the filters left as if
 * it were the original stream. Express hands the same `req` object down the stack, so the
 * stream cannot be swapped for another; instead its readable state is re-initialised, as the
 * IncomingMessage constructor initialises it, and filled with the body. Listeners are kept;
 * `content-length` was already updated by the filters' patch when they replaced the body.
 */
export function restream (req: IncomingMessage, body: Buffer): void {
  const init = Readable as unknown as { call (self: Readable, options: { highWaterMark: number }): void }
  init.call(req, { highWaterMark: req.readableHighWaterMark })
  if (body.length > 0) req.push(body)
  req.push(null)
}
