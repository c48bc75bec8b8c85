import { parse as parseQuery } from 'node:querystring'
import { Readable } from 'node:stream'
import { Exchange, normalizeRequestTarget, WaferError, type Chain, type ChainSpec, type Decision, type Generation, type LocalResponse, type Wafer } from '@wafer/core'
import type {
  FastifyReply, FastifyRequest, HookHandlerDoneFunction, onRequestHookHandler, onSendHookHandler, preParsingHookHandler
} from 'fastify'

/** Where the plugin keeps a request's state; a symbol so it never clashes with user decorations. */
export const kExchange = Symbol('wafer.exchange')

/** A request's Exchange and the chain of the generation it entered, used by every later hook. */
interface RequestState {
  ex: Exchange
  chain: Chain
  generation: Generation
}
type WithExchange = FastifyRequest & { [kExchange]: RequestState | null }

/** The generation a request entered, if a chain runs on its route. */
export function generationOf (request: FastifyRequest): Generation | undefined {
  return (request as WithExchange)[kExchange]?.generation
}
type Done = (err?: Error | null, value?: unknown) => void

export interface ChainHooks {
  onRequest: onRequestHookHandler
  preParsing: preParsingHookHandler
  onSend: onSendHookHandler
}

/**
 * The Fastify hooks that run a route's chain. Each request enters the runtime's current
 * generation in onRequest and leaves it when its response closes, so a reload never mixes
 * versions within a request. Filters before the first body-needing one run in onRequest,
 * before Fastify reads the body; the rest run in preParsing once the body is read (up to the
 * route's bodyLimit), and hand Fastify the possibly rewritten body to parse. Response-phase
 * filters run in onSend.
 */
export function chainHooks (spec: ChainSpec, wafer: Wafer, bodyLimit: number, responseBodyLimit: number): ChainHooks {
  const onRequest = function waferOnRequest (request: FastifyRequest, reply: FastifyReply, done: HookHandlerDoneFunction): void {
    // Filters see the target in normal form or not at all (docs/config.md, "What the gateway forwards").
    const url = normalizeRequestTarget(request.url)
    if (typeof url !== 'string') return done(badTarget(request.url, url.refused))
    if (url !== request.url) request.raw.url = url
    const generation: Generation = wafer.enter()
    // 'close' fires once the response is done or the client is gone, whichever comes first.
    reply.raw.once('close', () => { generation.leave() })
    let chain: Chain
    try {
      chain = generation.chain(spec)
    } catch (err) {
      done(err as Error)
      return
    }
    const ex = new Exchange({
      id: String(request.id),
      method: request.method,
      url,
      headers: request.headers,
      remoteAddress: request.ip,
      log: request.log
    })
    ;(request as WithExchange)[kExchange] = { ex, chain, generation }
    settle(chain.runRequest(ex, 0, chain.bodyStart), request, reply, ex, done as Done)
  }

  const preParsing = function waferPreParsing (request: FastifyRequest, reply: FastifyReply, payload: Readable, done: Done): void {
      const state = (request as WithExchange)[kExchange]
      if (state == null || reply.sent || state.chain.bodyStart >= state.chain.filters.length) return done(null, payload)
      const { ex, chain } = state
      if (!hasBody(request)) {
        settle(chain.runRequest(ex, chain.bodyStart), request, reply, ex, done, payload)
        return
      }
      readBody(payload as Readable, bodyLimit, () => new WaferError('WAFER_ERR_BODY_TOO_LARGE', [bodyLimit]), (err, body) => {
        if (err !== null) return done(err)
        ex.body = body
        // The route parses what the filters leave, which may be a replaced body.
        settle(chain.runRequest(ex, chain.bodyStart), request, reply, ex, done, () => Readable.from([ex.body as Buffer]))
      })
    }

  const onSend = function waferOnSend (request: FastifyRequest, reply: FastifyReply, payload: unknown, done: Done): void {
      const state = (request as WithExchange)[kExchange]
      if (state == null) return done(null, payload)
      const { ex, chain } = state
      const needs = chain.responsePhaseFor(ex.reached)
      if (needs === 'none') return done(null, payload)
      const run = (body: Buffer | undefined): void => {
        ex.response = { status: reply.statusCode, headers: reply.getHeaders(), body, changed: false, bodyChanged: false }
        const result = chain.runResponse(ex)
        if (result instanceof Promise) result.then(() => writeBack(reply, ex, payload, done), done)
        else writeBack(reply, ex, payload, done)
      }
      if (needs === 'headers') return run(undefined)
      payloadBytes(payload, responseBodyLimit, (err, body) => {
        if (err !== null) return done(err)
        // The stream was consumed: from here on the buffered copy is the payload.
        payload = body
        run(body)
      })
    }

  return { onRequest, preParsing: preParsing as unknown as preParsingHookHandler, onSend: onSend as unknown as onSendHookHandler }
}

function badTarget (url: string, reason: string): WaferError {
  return new WaferError('WAFER_ERR_BAD_REQUEST_TARGET', [JSON.stringify(url.length > 200 ? `${url.slice(0, 200)}...` : url), reason])
}

function settle (result: Decision | Promise<Decision>, request: FastifyRequest, reply: FastifyReply, ex: Exchange,
  done: Done, payload?: unknown): void {
  const next = (d: Decision): void => {
    if (ex.responseHeaders !== undefined) {
      reply.headers(ex.responseHeaders)
      ex.responseHeaders = undefined
    }
    if (d.respond) return sendLocal(reply, d.response)
    syncUrl(request, ex)
    if (payload === undefined) done()
    else done(null, typeof payload === 'function' ? (payload as () => unknown)() : payload)
  }
  if (result instanceof Promise) result.then(next, done)
  else next(result)
}

/** Makes a rewritten path or query visible to the route (`request.url`, `request.query`). */
function syncUrl (request: FastifyRequest, ex: Exchange): void {
  if (!ex.pathChanged && !ex.queryChanged) return
  request.raw.url = ex.url
  if (ex.queryChanged) (request as { query: unknown }).query = parseQuery(ex.query)
  ex.pathChanged = false
  ex.queryChanged = false
}

/** Answers with a filter's response; no later filter or the route runs. */
function sendLocal (reply: FastifyReply, response: LocalResponse): void {
  reply.code(response.status).headers(response.headers).send(response.body ?? '')
}

function writeBack (reply: FastifyReply, ex: Exchange, payload: unknown, done: Done): void {
  const res = ex.response
  if (res === undefined || !res.changed) return done(null, payload)
  reply.code(res.status)
  const before = reply.getHeaders()
  for (const name of Object.keys(before)) {
    if (res.headers[name] === undefined) reply.removeHeader(name)
  }
  for (const [name, value] of Object.entries(res.headers)) {
    if (value !== undefined && before[name] !== value) reply.header(name, value)
  }
  done(null, res.bodyChanged ? res.body : payload)
}

function hasBody (request: FastifyRequest): boolean {
  const h = request.headers
  if (h['transfer-encoding'] !== undefined) return true
  const len = h['content-length']
  return len !== undefined && len !== '0'
}

function readBody (stream: Readable, limit: number, tooLarge: () => Error, cb: (err: Error | null, body: Buffer) => void): void {
  const chunks: Buffer[] = []
  let size = 0
  let finished = false
  const finish = (err: Error | null): void => {
    if (finished) return
    finished = true
    stream.removeListener('data', onData)
    stream.removeListener('end', onEnd)
    stream.removeListener('error', finish)
    cb(err, err === null ? Buffer.concat(chunks, size) : Buffer.alloc(0))
  }
  const onData = (chunk: Buffer | string): void => {
    const buf = typeof chunk === 'string' ? Buffer.from(chunk) : chunk
    size += buf.length
    if (size > limit) {
      stream.pause()
      finish(tooLarge())
      return
    }
    chunks.push(buf)
  }
  const onEnd = (): void => finish(null)
  stream.on('data', onData)
  stream.on('end', onEnd)
  stream.on('error', finish)
}

function payloadBytes (payload: unknown, limit: number, cb: (err: Error | null, body: Buffer) => void): void {
  const tooLarge = (): Error => new WaferError('WAFER_ERR_RESPONSE_TOO_LARGE', [limit])
  if (payload != null && typeof (payload as Readable).pipe === 'function') {
    readBody(payload as Readable, limit, tooLarge, cb)
    return
  }
  const body = payload == null
    ? Buffer.alloc(0)
    : Buffer.isBuffer(payload) ? payload : payload instanceof Uint8Array ? Buffer.from(payload) : Buffer.from(String(payload))
  if (body.length > limit) return cb(tooLarge(), Buffer.alloc(0))
  cb(null, body)
}
