import type { OutgoingHttpHeaders, ServerResponse } from 'node:http'
import { errorReply, LiveResponse, runResponsePhase, WaferError, type Chain, type Exchange, type ReplyAccess, type ResponseHeaders, type ResponseState } from '@wafer/core'

type Callback = (err?: Error | null) => void

/** A Node.js reply as the response phase reads and changes it, one header at a time. */
export const nodeReply: ReplyAccess<ServerResponse> = {
  header: (res, name) => res.getHeader(name),
  headers: (res) => res.getHeaders() as ResponseHeaders,
  setHeader: (res, name, value) => { res.setHeader(name, value) },
  removeHeader: (res, name) => { res.removeHeader(name) },
  setStatus: (res, status) => {
    if (res.statusCode === status) return
    res.statusCode = status
    // A changed status gets its own reason phrase.
    res.statusMessage = ''
  }
}

type Chunk = string | Uint8Array

/**
 * Where a captured reply is:
 * - `head`: nothing written yet;
 * - `body`: filters need the body, so the reply is buffered until the route ends it;
 * - `wait`: header-only filters are running (they waited on the store); writes queue;
 * - `pass`: the filters are done with it; writes go straight through;
 * - `replaced`: a filter replaced the reply, which is sent, or closed the stream, so nothing is;
 *   the route's output is dropped.
 */
type Mode = 'head' | 'body' | 'wait' | 'pass' | 'replaced'

/**
 * Runs the response phase of `chain` on the reply the route (or a filter that responded)
 * writes. Express has no onSend hook, so `writeHead`, `write`, `end` and `flushHeaders` are
 * intercepted on this response, the way compression and on-headers do: the first of them is
 * the moment the status and headers are final. Filters that need only headers run then, and a
 * streamed reply keeps streaming afterwards; filters that need the body get it once the route
 * ends the reply, up to `limit` bytes (more answers 500 `WAFER_ERR_RESPONSE_TOO_LARGE`).
 */
export function captureResponse (res: ServerResponse, chain: Chain, ex: Exchange, limit: number): void {
  type Raw<R> = (this: ServerResponse, ...args: unknown[]) => R
  const original = {
    writeHead: res.writeHead as Raw<ServerResponse>,
    write: res.write as Raw<boolean>,
    end: res.end as Raw<ServerResponse>,
    flushHeaders: res.flushHeaders as Raw<void>
  }
  let mode: Mode = 'head'
  let chunks: Buffer[] = []
  let size = 0
  /** Writes held while filters run: `send` performs one, `drop` answers its callback if the reply was replaced. */
  let queue: Array<{ send: () => void, drop: () => void }> = []
  let drain = false
  /** The route's `end()` callback, while its reply is held for body filters. */
  let ended: Callback | undefined

  /** The status and headers are final: decide what the reply needs. */
  const begin = (): void => {
    const needs = chain.responsePhaseFor(ex.reached)
    if (needs === 'none') mode = 'pass'
    else if (needs === 'body') mode = 'body'
    else {
      mode = 'wait'
      run(undefined, flush)
    }
  }

  /** Runs the response filters (core writes back what they changed), then continues with `then`. */
  const run = (body: Buffer | undefined, then: () => void): void => {
    ex.response = new LiveResponse(nodeReply, res, res.statusCode, body)
    runResponsePhase(chain, ex, {
      responded: () => {
        const state = ex.response as ResponseState
        if (state.bodyChanged) replace(state.body ?? Buffer.alloc(0))
        else then()
      },
      responseFailed: (_ex, err) => { fail(err) },
      closed: () => { close() }
    })
  }

  /** A filter closed the stream: nothing is sent, what the route writes is dropped, the connection is destroyed. */
  const close = (): void => {
    chunks = []
    const dropped = queue
    queue = []
    mode = 'replaced'
    res.destroy()
    for (const op of dropped) op.drop()
    // The route's end() callback, held with its buffered reply: the reply is over.
    afterFinish(res, ended)
    ended = undefined
  }

  /** The chain runner answers filter failures itself; this is for a fault in Wafer. */
  const fail = (err: unknown): void => {
    ex.log.error({ err }, `response phase failed: ${(err as Error).message}`)
    failWith(new WaferError('WAFER_ERR_INTERNAL', ['the response phase', (err as Error).message], { cause: err }))
  }

  const failWith = (err: WaferError): void => {
    const response = errorReply(err)
    for (const name of res.getHeaderNames()) res.removeHeader(name)
    res.statusCode = response.status
    res.statusMessage = ''
    for (const [name, value] of Object.entries(response.headers)) res.setHeader(name, value)
    replace(Buffer.from(response.body ?? ''))
  }

  /** Sends `body` as the whole reply; whatever the route wrote or still writes is dropped. */
  const replace = (body: Buffer): void => {
    chunks = []
    res.removeHeader('transfer-encoding')
    res.setHeader('content-length', body.length)
    const dropped = queue
    queue = []
    mode = 'pass'
    original.end.call(res, body, ended)
    mode = 'replaced'
    for (const op of dropped) op.drop()
    if (drain) {
      drain = false
      res.emit('drain')
    }
  }

  /** Header-only filters are done: the reply streams on, starting with what queued meanwhile. */
  const flush = (): void => {
    mode = 'pass'
    const held = queue
    queue = []
    for (const op of held) op.send()
    if (drain) {
      drain = false
      res.emit('drain')
    }
  }

  const buffer = (chunk: Chunk | undefined, encoding: BufferEncoding | undefined): boolean => {
    if (chunk === undefined || chunk === null) return true
    const buf = typeof chunk === 'string' ? Buffer.from(chunk, encoding ?? 'utf8') : Buffer.from(chunk)
    size += buf.length
    if (size > limit) {
      const err = new WaferError('WAFER_ERR_RESPONSE_TOO_LARGE', [limit])
      ex.log.error({ err }, err.message)
      failWith(err)
      return false
    }
    chunks.push(buf)
    return true
  }

  res.writeHead = function waferWriteHead (this: ServerResponse, ...args: unknown[]): ServerResponse {
    const writeHead = original.writeHead
    if (mode === 'pass') return writeHead.apply(this, args)
    if (mode === 'replaced') return this
    const [statusCode] = args
    // An invalid status: Node.js throws its own error, synchronously, to the caller.
    if (typeof statusCode !== 'number' || !Number.isInteger(statusCode) || statusCode < 100 || statusCode > 999) return writeHead.apply(this, args)
    recordHead(res, statusCode, args[1], args[2])
    if (mode === 'head') begin()
    // begin() moved on from 'head'.
    const now = mode as Mode
    if (now === 'pass') return writeHead.call(this, this.statusCode)
    if (now === 'wait') queue.push({ send: () => { if (!res.headersSent) writeHead.call(res, res.statusCode) }, drop: () => {} })
    return this
  } as ServerResponse['writeHead']

  res.flushHeaders = function waferFlushHeaders (this: ServerResponse): void {
    if (mode === 'head') begin()
    if (mode === 'pass') original.flushHeaders.call(this)
    else if (mode === 'wait') queue.push({ send: () => { original.flushHeaders.call(res) }, drop: () => {} })
    // While buffering for body filters, the headers go out with the body.
  }

  res.write = function waferWrite (this: ServerResponse, chunk: Chunk, encoding?: BufferEncoding | Callback, cb?: Callback): boolean {
    if (typeof encoding === 'function') {
      cb = encoding
      encoding = undefined
    }
    if (mode === 'head') begin()
    switch (mode) {
      case 'pass':
        return original.write.call(this, chunk, encoding, cb)
      case 'wait':
        queue.push({ send: () => { original.write.call(res, chunk, encoding, cb) }, drop: () => { if (cb !== undefined) cb() } })
        // Streams piping into the reply wait for the 'drain' that follows the filters.
        drain = true
        return false
      case 'body': {
        const ok = buffer(chunk, encoding)
        if (cb !== undefined) process.nextTick(cb)
        return ok
      }
      default:
        // Replaced: the route's bytes are dropped, its callbacks still answered.
        if (cb !== undefined) process.nextTick(cb)
        return true
    }
  } as ServerResponse['write']

  res.end = function waferEnd (this: ServerResponse, chunk?: Chunk | Callback, encoding?: BufferEncoding | Callback, cb?: Callback): ServerResponse {
    if (typeof chunk === 'function') {
      cb = chunk
      chunk = undefined
    } else if (typeof encoding === 'function') {
      cb = encoding
      encoding = undefined
    }
    if (mode === 'head') begin()
    switch (mode) {
      case 'pass':
        return original.end.call(this, chunk, encoding, cb)
      case 'wait':
        queue.push({ send: () => { original.end.call(res, chunk, encoding, cb) }, drop: () => { afterFinish(res, cb) } })
        return this
      case 'body': {
        ended = cb
        if (!buffer(chunk as Chunk | undefined, encoding as BufferEncoding | undefined)) return this
        const body = Buffer.concat(chunks, size)
        chunks = []
        run(body, () => {
          mode = 'pass'
          original.end.call(res, body, cb)
        })
        return this
      }
      default:
        afterFinish(res, cb)
        return this
    }
  } as ServerResponse['end']
}

/** Calls an `end()` callback when the reply that replaced the route's is finished (or was reset: it never will be). */
function afterFinish (res: ServerResponse, cb: Callback | undefined): void {
  if (cb === undefined) return
  if (res.writableFinished || res.destroyed) process.nextTick(cb)
  else res.once('finish', () => { cb() })
}

/** Applies `writeHead(status, [reason], [headers])` to the response without sending anything. */
function recordHead (res: ServerResponse, statusCode: number, reason: unknown, headers: unknown): void {
  if (typeof reason !== 'string') headers = reason
  else res.statusMessage = reason
  if (res.statusCode !== statusCode) {
    if (typeof reason !== 'string') res.statusMessage = ''
    res.statusCode = statusCode
  }
  if (headers === undefined || headers === null) return
  if (Array.isArray(headers)) {
    // [[name, value], ...] or the raw form [name, value, name, value, ...].
    const pairs: Array<[string, string]> = Array.isArray(headers[0])
      ? (headers as Array<[string, string]>)
      : Array.from({ length: headers.length / 2 }, (_, i) => [String(headers[2 * i]), String(headers[2 * i + 1])])
    const grouped = new Map<string, string[]>()
    for (const [name, value] of pairs) {
      const key = name.toLowerCase()
      grouped.set(key, [...(grouped.get(key) ?? []), value])
    }
    for (const [name, values] of grouped) res.setHeader(name, values.length === 1 ? values[0] as string : values)
    return
  }
  for (const [name, value] of Object.entries(headers as OutgoingHttpHeaders)) {
    if (value !== undefined) res.setHeader(name, value)
  }
}
