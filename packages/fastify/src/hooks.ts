import { parse as parseQuery } from 'node:querystring'
import { Readable } from 'node:stream'
import {
  DrivenExchange, readBody, RequestDriver, RequestHold, requestTarget, WaferError, type Chain, type ChainSpec, type ExchangeInit,
  type Generation, type ReplyAccess, type RequestIO, type ResponseHeaders, type ResponseIO, type Wafer
} from '@wafer/core'
import type {
  FastifyReply, FastifyRequest, HookHandlerDoneFunction, onRequestHookHandler, onSendHookHandler, preParsingHookHandler
} from 'fastify'

/** Where the plugin keeps a request's run; a symbol so it never clashes with user decorations. */
export const kExchange = Symbol('wafer.exchange')

type Done = (err?: Error | null, value?: unknown) => void
type WithExchange = FastifyRequest & { [kExchange]: FastifyExchange | null }

/**
 * A request's run through its route's chain, with the Fastify objects the hooks answer
 * through. Each hook leaves its `done` (and payload) here for the driver's callbacks, so a
 * request costs no closure in the hooks.
 */
class FastifyExchange extends DrivenExchange {
  readonly request: FastifyRequest
  readonly reply: FastifyReply
  /** The continuation of the hook in progress. */
  done: Done = noop
  /** What the hook in progress received: the request stream (preParsing) or the reply payload (onSend). */
  payload: unknown = undefined
  /** preParsing read the body: the route parses what the filters left. */
  read = false
  /** The route's methods carry no body (no preParsing hook): the whole chain runs in onRequest. */
  readonly bodyless: boolean

  constructor (init: ExchangeInit, chain: Chain, hold: RequestHold, request: FastifyRequest, reply: FastifyReply, bodyless: boolean) {
    super(init, chain, hold)
    this.request = request
    this.reply = reply
    this.bodyless = bodyless
  }

  /** `request.ip` (Fastify applies trustProxy), read only when a filter asks for the client's address. */
  protected override clientAddress (): string {
    return this.request.ip ?? ''
  }
}

function noop (): void {}

/**
 * The body the filters left, as the stream Fastify's body parsers read. One chunk, pushed when
 * first read: `Readable.from` would run an async iterator for it.
 */
class BodyStream extends Readable {
  #body: Buffer | undefined

  constructor (body: Buffer) {
    super()
    this.#body = body
  }

  override _read (): void {
    const body = this.#body
    this.#body = undefined
    if (body !== undefined && body.length > 0) this.push(body)
    this.push(null)
  }
}

/** The generation a request entered, if a chain runs on its route. */
export function generationOf (request: FastifyRequest): Generation | undefined {
  return (request as WithExchange)[kExchange]?.hold.generation
}

export interface ChainHooks {
  onRequest: onRequestHookHandler
  /** onRequest for a route that gets no preParsing hook: its methods never carry a body Fastify reads. */
  onRequestBodyless: onRequestHookHandler
  preParsing: preParsingHookHandler
  onSend: onSendHookHandler
}

/** Methods Fastify never reads a body for (its `bodyless` set): such a route needs no preParsing hook. */
const BODYLESS = new Set(['GET', 'HEAD', 'TRACE'])

/** True if every method of a route is one Fastify reads no body for. */
export function bodylessRoute (method: string | string[]): boolean {
  return (Array.isArray(method) ? method : [method]).every((m) => BODYLESS.has(m.toUpperCase()))
}

/** A Fastify reply as the response phase reads and changes it, one header at a time. */
const fastifyReply: ReplyAccess<FastifyExchange> = {
  header: (run, name) => run.reply.getHeader(name),
  headers: (run) => run.reply.getHeaders() as ResponseHeaders,
  setHeader: (run, name, value) => {
    // reply.header() appends to a set-cookie already there; the filters' value is the whole list.
    if (name === 'set-cookie') run.reply.removeHeader(name)
    run.reply.header(name, value)
  },
  removeHeader: (run, name) => { run.reply.removeHeader(name) },
  setStatus: (run, status) => { run.reply.code(status) }
}

/** The response phase in onSend: the reply's headers one at a time, the payload replaced when the filters replaced the body. */
const responseIO: ResponseIO<FastifyExchange> = {
  reply: fastifyReply,
  responded: (run) => {
    const res = run.response
    run.done(null, res?.bodyChanged === true ? res.body : run.payload)
  },
  responseFailed: (run, err) => { run.done(err as Error) },
  // The hook's continuation is not called: Fastify would write the reply to the reset socket.
  closed: (run) => {
    // An upstream's (or any streamed) reply body: dropping it resets the upstream request.
    const payload = run.payload as Readable | null | undefined
    if (payload != null && typeof payload.destroy === 'function') payload.destroy()
    reset(run)
  }
}

/**
 * A filter closed the stream: the reply is hijacked, so Fastify sends nothing and runs no
 * route, and the connection is destroyed (HTTP/1.1: closed without a response; HTTP/2: the
 * stream is reset). The request ends, for the filters too, when the response closes.
 */
function reset (run: FastifyExchange): void {
  run.reply.hijack()
  run.reply.raw.destroy()
}

/**
 * The Fastify hooks that run a route's chain through core's request driver. Each request
 * enters the runtime's current generation in onRequest and leaves it when its response
 * closes, so a reload never mixes versions within a request. Filters before the first
 * body-needing one run in onRequest, before Fastify reads the body; the rest run in preParsing
 * once the body is read (up to the route's bodyLimit), and hand Fastify the possibly
 * rewritten body to parse. Response-phase filters run in onSend. A filter that closes the
 * stream gets the connection reset in either phase, and nothing is sent.
 */
export function chainHooks (spec: ChainSpec, wafer: Wafer, bodyLimit: number, responseBodyLimit: number): ChainHooks {
  const tooLarge = (): WaferError => new WaferError('WAFER_ERR_BODY_TOO_LARGE', [bodyLimit])
  const io: RequestIO<FastifyExchange> = {
    addResponseHeaders: (run, headers) => { run.reply.headers(headers) },
    sendLocal: (run, response) => { run.reply.code(response.status).headers(response.headers).send(response.body ?? '') },
    reset: (run) => {
      reset(run)
      // Fastify checks the hijacked reply and goes no further (no body parsing, no handler).
      run.done()
    },
    syncUrl: (run) => {
      // Makes a rewritten path or query visible to the route (`request.url`, `request.query`).
      run.request.raw.url = run.url
      if (run.queryChanged) (run.request as { query: unknown }).query = parseQuery(run.query)
      return true
    },
    headDone: (run, driver) => {
      if (run.bodyless) driver.withoutBody(run)
      else run.done()
    },
    readBody: (run, driver) => {
      readBody(run.payload as Readable, bodyLimit, { tooLarge, declared: run.headers['content-length'] as string | undefined }, (result) => {
        if ('body' in result) {
          run.read = true
          driver.withBody(run, result.body)
        } else if ('tooLarge' in result) {
          run.done(result.tooLarge)
        } else if (result.aborted !== undefined) {
          // The client went away: Fastify ends the request with the stream's error.
          run.done(result.aborted)
        }
      })
    },
    // The route parses what the filters leave, which may be a replaced body.
    proceed: (run) => { run.done(null, run.read ? new BodyStream(run.body as Buffer) : run.payload) },
    fail: (run, err) => { run.done(err as Error) }
  }
  const driver = new RequestDriver(io, responseIO)

  const enter = (request: FastifyRequest, reply: FastifyReply, done: HookHandlerDoneFunction, bodyless: boolean): void => {
    // Filters see the target in normal form or not at all (docs/config.md, "What the gateway forwards").
    const url = requestTarget(request.url)
    if (typeof url !== 'string') return done(url)
    if (url !== request.url) request.raw.url = url
    const hold = new RequestHold(wafer)
    hold.watch(reply.raw)
    let chain: Chain
    try {
      chain = hold.generation.chain(spec)
    } catch (err) {
      done(err as Error)
      return
    }
    const run = new FastifyExchange({ id: String(request.id), method: request.method, url, headers: request.headers, log: request.log, connection: request.raw.socket },
      chain, hold, request, reply, bodyless)
    ;(request as WithExchange)[kExchange] = run
    run.done = done as Done
    driver.start(run)
  }
  const onRequest = function waferOnRequest (request: FastifyRequest, reply: FastifyReply, done: HookHandlerDoneFunction): void {
    enter(request, reply, done, false)
  }
  const onRequestBodyless = function waferOnRequest (request: FastifyRequest, reply: FastifyReply, done: HookHandlerDoneFunction): void {
    enter(request, reply, done, true)
  }

  const preParsing = function waferPreParsing (request: FastifyRequest, reply: FastifyReply, payload: Readable, done: Done): void {
    const run = (request as WithExchange)[kExchange]
    if (run == null || reply.sent) return done(null, payload)
    run.done = done
    run.payload = payload
    driver.body(run)
  }

  const onSend = function waferOnSend (request: FastifyRequest, _reply: FastifyReply, payload: unknown, done: Done): void {
    const run = (request as WithExchange)[kExchange]
    if (run == null) return done(null, payload)
    const needs = driver.responseNeeds(run)
    if (needs === 'none') return done(null, payload)
    run.done = done
    run.payload = payload
    if (needs === 'headers') return driver.respond(run, run.reply.statusCode, undefined)
    payloadBytes(payload, responseBodyLimit, (err, body) => {
      if (err !== null) return done(err)
      // The stream was consumed: from here on the buffered copy is the payload.
      run.payload = body
      driver.respond(run, run.reply.statusCode, body)
    })
  }

  return { onRequest, onRequestBodyless, preParsing: preParsing as unknown as preParsingHookHandler, onSend: onSend as unknown as onSendHookHandler }
}

/** The reply's bytes, for filters that need the body: a streamed reply is read (up to `limit`). */
function payloadBytes (payload: unknown, limit: number, cb: (err: Error | null, body: Buffer) => void): void {
  const tooLarge = (): WaferError => new WaferError('WAFER_ERR_RESPONSE_TOO_LARGE', [limit])
  if (payload != null && typeof (payload as Readable).pipe === 'function') {
    readBody(payload as Readable, limit, { tooLarge }, (result) => {
      if ('body' in result) cb(null, result.body)
      else if ('tooLarge' in result) cb(result.tooLarge, EMPTY)
      else cb(result.aborted ?? new Error('the reply stream closed before its end'), EMPTY)
    })
    return
  }
  const body = payload == null
    ? EMPTY
    : Buffer.isBuffer(payload) ? payload : payload instanceof Uint8Array ? Buffer.from(payload) : Buffer.from(String(payload))
  if (body.length > limit) return cb(tooLarge(), EMPTY)
  cb(null, body)
}

const EMPTY = Buffer.alloc(0)
