import type { IncomingMessage, ServerResponse } from 'node:http'
import { parse as parseQuery } from 'node:querystring'
import {
  DrivenExchange, readBody, RequestDriver, RequestHold, requestTarget, WaferError, type Chain, type ChainSpec, type ExchangeInit, type RequestIO,
  type Wafer, type WaferLogger
} from '@wafer/core'
import type { ResolvedOptions } from './options.js'
import { sendError, sendLocal } from './replies.js'
import { restream } from './request-body.js'
import { RequestLog } from './request-log.js'
import { captureResponse } from './response-capture.js'

/** Connect-style middleware, as Express (4 and 5) calls it. */
export type WaferHandler = (req: IncomingMessage, res: ServerResponse, next: (err?: unknown) => void) => void

/** What every chain middleware of one `wafer()` shares. */
export interface ChainContext {
  readonly runtime: Wafer
  readonly options: ResolvedOptions
  readonly logger: WaferLogger
  readonly requestId: (req: IncomingMessage) => string
}

/** Where a request keeps its Wafer state; a symbol so it never clashes with other middleware. */
const kRequest = Symbol('wafer.request')

/** A request's hold on its generation, with its id and logger, shared by every chain it passes (app, router, route). */
class ExpressHold extends RequestHold {
  readonly id: string
  readonly log: WaferLogger

  constructor (runtime: Wafer, id: string, log: WaferLogger) {
    super(runtime)
    this.id = id
    this.log = log
  }
}

/** The parts of Express's request this adapter reads; plain Node.js requests work too. */
type Req = IncomingMessage & { [kRequest]?: ExpressHold, baseUrl?: string, originalUrl?: string, ip?: string, app?: { get (setting: string): unknown } }

/** A request's run through one chain middleware, with the objects the driver's callbacks answer through. */
class ExpressExchange extends DrivenExchange {
  readonly req: Req
  readonly res: ServerResponse
  readonly next: (err?: unknown) => void
  /** The body was read: later middleware reads what the filters left. */
  read = false

  constructor (init: ExchangeInit, chain: Chain, hold: ExpressHold, req: Req, res: ServerResponse, next: (err?: unknown) => void) {
    super(init, chain, hold)
    this.req = req
    this.res = res
    this.next = next
  }

  /** `req.ip` (Express applies its trust proxy setting), read only when a filter asks for the client's address. */
  protected override clientAddress (): string {
    return this.req.ip ?? this.req.socket?.remoteAddress ?? ''
  }
}

/**
 * Binds a request to the runtime's current generation the first time a Wafer middleware sees
 * it, and leaves that generation when the response closes, so a reload never mixes versions
 * within a request: a global chain and a route's chain run on the same one.
 */
function bind (req: Req, res: ServerResponse, ctx: ChainContext): ExpressHold | undefined {
  const bound = req[kRequest]
  if (bound !== undefined) return bound
  // The client left while earlier middleware ran: 'close' has fired, so nothing would leave.
  if (res.destroyed) return undefined
  const id = ctx.requestId(req)
  const hold = new ExpressHold(ctx.runtime, id, new RequestLog(ctx.logger, id))
  hold.watch(res)
  req[kRequest] = hold
  return hold
}

/**
 * The framework I/O core's request driver runs an Express request with. Response filters run
 * on whatever reply follows, through `captureResponse`.
 */
function expressIO (bodyLimit: number): RequestIO<ExpressExchange> {
  const tooLarge = (): WaferError => new WaferError('WAFER_ERR_BODY_TOO_LARGE', [bodyLimit])
  return {
    addResponseHeaders: (run, headers) => {
      for (const name in headers) run.res.setHeader(name, headers[name] as string | string[])
    },
    sendLocal: (run, response) => { sendLocal(run.res, response) },
    // A filter closed the stream: next() is not called, so no route runs, and the connection is
    // destroyed without a response. The request ends when the response closes.
    reset: (run) => { run.res.destroy() },
    syncUrl,
    headDone: (run, driver) => { driver.body(run) },
    readBody: (run, driver) => {
      const req = run.req
      if (req.readableEnded || !req.readable) {
        const err = new WaferError('WAFER_ERR_MIDDLEWARE_ORDER', ['@wafer/express',
          'a filter needs the request body, but earlier middleware already read it; register Wafer before body parsers'])
        return sendError(run.res, err, run.log, 'The request body was read before the filters that need it')
      }
      // Waits for the request's 'close' after its end: proceed() makes it readable again.
      readBody(req, bodyLimit, { tooLarge, declared: req.headers['content-length'], afterClose: true }, (result) => {
        // A client that went away gets no answer.
        if ('aborted' in result) return
        if ('tooLarge' in result) return sendError(run.res, result.tooLarge, run.log)
        run.read = true
        driver.withBody(run, result.body)
      })
    },
    proceed: (run) => {
      // Body parsers after Wafer read what the filters left.
      if (run.read) restream(run.req, run.body as Buffer)
      run.next()
    },
    fail: (run, err) => { sendError(run.res, err, run.log) }
  }
}

/**
 * The middleware that runs `spec`. Filters before the first one that needs the request body
 * run at once; if one needs it, the body is read (up to `bodyLimit`), the rest run, and the
 * request is made readable again with the body they leave, for body parsers after Wafer. A
 * rewritten path or query becomes `req.url` before `next()`, so Express routes on it. Response
 * filters run on whatever reply follows (see `captureResponse`).
 */
export function chainMiddleware (spec: ChainSpec, ctx: ChainContext): WaferHandler {
  const { bodyLimit, responseBodyLimit } = ctx.options
  const driver = new RequestDriver(expressIO(bodyLimit))
  return function waferChain (request, res, next) {
    const req = request as Req
    const hold = bind(req, res, ctx)
    if (hold === undefined) return
    let chain: Chain
    try {
      chain = hold.generation.chain(spec)
    } catch (err) {
      sendError(res, err, hold.log)
      return
    }
    if (chain.filters.length === 0) {
      next()
      return
    }
    const url = requestUrl(req)
    // Filters see the target in normal form or not at all (the rule is core's request-target.ts).
    const target = requestTarget(url)
    if (typeof target !== 'string') return sendError(res, target, hold.log)
    const run = new ExpressExchange({ id: hold.id, method: req.method ?? 'GET', url, headers: req.headers, log: hold.log, connection: req.socket },
      chain, hold, req, res, next)
    // A normalised target reaches the routes after Wafer as a rewrite would (syncUrl).
    if (target !== url) {
      const q = target.indexOf('?')
      run.setTarget(q === -1 ? target : target.slice(0, q), q === -1 ? '' : target.slice(q + 1))
    }
    if (chain.hasResponsePhase) captureResponse(res, chain, run, responseBodyLimit)
    driver.start(run)
  }
}

/**
 * The request target as filters see it: the whole path, also when the middleware is mounted
 * on a path or a router (where Express strips the mount path from `req.url`).
 */
function requestUrl (req: Req): string {
  const base = req.baseUrl ?? ''
  const url = req.url ?? '/'
  if (base === '') return url
  const q = url.indexOf('?')
  const path = q === -1 ? url : url.slice(0, q)
  const query = q === -1 ? '' : url.slice(q)
  // At the mount path itself Express makes `req.url` "/"; keep the path as it was received.
  const original = pathOf(req.originalUrl ?? '')
  return (path === '/' && !original.endsWith('/') ? base : base + path) + query
}

/** Express 4 (router 1.x) keeps its router in `app._router`; Express 5 in `app.router`. */
function legacyRouter (req: Req): boolean {
  return (req.app as { _router?: unknown } | undefined)?._router !== undefined
}

function pathOf (url: string): string {
  const q = url.indexOf('?')
  return q === -1 ? url : url.slice(0, q)
}

/**
 * Makes a rewritten path or query the route's `req.url` (and so `req.path`, `req.query`, and
 * which route matches). Under a mount path the rewrite must stay under it: Express restores
 * the mount prefix when the request leaves the router. Returns false after answering if not.
 */
function syncUrl (run: ExpressExchange): boolean {
  const req = run.req
  const base = req.baseUrl ?? ''
  const query = run.query === '' ? '' : `?${run.query}`
  if (base === '') {
    req.url = run.url
  } else if (run.path === base || run.path.startsWith(`${base}/`)) {
    const url = (run.path.slice(base.length) || '/') + query
    // At the mount path itself the router added a "/" that it removes again when next() is
    // called. Express 5's router removes it only if req.url is still the root; Express 4's
    // removes the first character of whatever req.url is, so give it one more "/" to take.
    const strips = legacyRouter(req) && pathOf(req.originalUrl ?? '') === base && url !== '/' && !url.startsWith('/?')
    req.url = strips ? `/${url}` : url
  } else {
    const err = new WaferError('WAFER_ERR_MIDDLEWARE_ORDER', ['@wafer/express',
      `a filter rewrote the path to ${run.path}, outside ${base}, where this chain is mounted; run path-rewriting chains with app.use() at the top level`])
    sendError(run.res, err, run.log, 'A filter rewrote the path outside the router it runs in')
    return false
  }
  // Express 5 parses req.query from req.url on each access; Express 4 parsed it once, before Wafer.
  if (run.queryChanged && Object.getOwnPropertyDescriptor(req, 'query')?.writable === true) {
    const parser = req.app?.get('query parser fn')
    ;(req as { query?: unknown }).query = typeof parser === 'function' ? parser(run.query) : parseQuery(run.query)
  }
  return true
}
