import type { IncomingMessage } from 'node:http'
import { Readable } from 'node:stream'

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
