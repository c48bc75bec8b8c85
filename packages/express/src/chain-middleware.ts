import type { IncomingMessage, ServerResponse } from 'node:http'
import { parse as parseQuery } from 'node:querystring'
import { Exchange, normalizeRequestTarget, WaferError, type Chain, type ChainSpec, type Decision, type Generation, type Wafer, type WaferLogger } from '@wafer/core'
import type { ResolvedOptions } from './options.js'
import { sendError, sendLocal } from './replies.js'
import { hasBody, readBody, restream } from './request-body.js'
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

/** A request's generation, id and logger, shared by every chain it passes (app, router, route). */
interface RequestState {
  generation: Generation
  id: string
  log: WaferLogger
}

/** The parts of Express's request this adapter reads; plain Node.js requests work too. */
type Req = IncomingMessage & { [kRequest]?: RequestState, baseUrl?: string, originalUrl?: string, ip?: string, app?: { get (setting: string): unknown } }

/**
 * Binds a request to the runtime's current generation the first time a Wafer middleware sees
 * it, and leaves that generation when the response closes, so a reload never mixes versions
 * within a request: a global chain and a route's chain run on the same one.
 */
function bind (req: Req, res: ServerResponse, ctx: ChainContext): RequestState | undefined {
  const bound = req[kRequest]
  if (bound !== undefined) return bound
  // The client left while earlier middleware ran: 'close' has fired, so nothing would leave.
  if (res.destroyed) return undefined
  const generation = ctx.runtime.enter()
  // 'close' fires once the response is done or the client is gone, whichever comes first.
  res.once('close', () => { generation.leave() })
  const id = ctx.requestId(req)
  const state = { generation, id, log: new RequestLog(ctx.logger, id) }
  req[kRequest] = state
  return state
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
  return function waferChain (request, res, next) {
    const req = request as Req
    const state = bind(req, res, ctx)
    if (state === undefined) return
    let chain: Chain
    try {
      chain = state.generation.chain(spec)
    } catch (err) {
      sendError(res, err, state.log)
      return
    }
    if (chain.filters.length === 0) {
      next()
      return
    }
    const url = requestUrl(req)
    // Filters see the target in normal form or not at all (the rule is core's request-target.ts).
    const target = normalizeRequestTarget(url)
    if (typeof target !== 'string') {
      const quoted = JSON.stringify(url.length > 200 ? `${url.slice(0, 200)}...` : url)
      return sendError(res, new WaferError('WAFER_ERR_BAD_REQUEST_TARGET', [quoted, target.refused]), state.log)
    }
    const ex = new Exchange({
      id: state.id,
      method: req.method ?? 'GET',
      url,
      headers: req.headers,
      remoteAddress: req.ip ?? req.socket?.remoteAddress ?? '',
      log: state.log
    })
    // A normalised target reaches the routes after Wafer as a rewrite would (syncUrl).
    if (target !== url) {
      const q = target.indexOf('?')
      ex.setTarget(q === -1 ? target : target.slice(0, q), q === -1 ? '' : target.slice(q + 1))
    }
    if (chain.hasResponsePhase) captureResponse(res, chain, ex, responseBodyLimit)

    const bodyPhase = (): void => {
      if (chain.bodyStart >= chain.filters.length) return next()
      if (!hasBody(req)) return settle(chain.runRequest(ex, chain.bodyStart), req, res, ex, next)
      if (req.readableEnded || !req.readable) {
        const err = new WaferError('WAFER_ERR_MIDDLEWARE_ORDER', ['@wafer/express',
          'a filter needs the request body, but earlier middleware already read it; register Wafer before body parsers'])
        return sendError(res, err, state.log, 'The request body was read before the filters that need it')
      }
      readBody(req, bodyLimit, (result) => {
        if ('aborted' in result) return
        if ('tooLarge' in result) return sendError(res, result.tooLarge, state.log)
        ex.body = result.body
        settle(chain.runRequest(ex, chain.bodyStart), req, res, ex, () => {
          // Body parsers after Wafer read what the filters left.
          restream(req, ex.body ?? result.body)
          next()
        })
      })
    }
    settle(chain.runRequest(ex, 0, chain.bodyStart), req, res, ex, bodyPhase)
  }
}

/** Continues with `then` after filters that continued, or answers for a filter that responded. */
function settle (result: Decision | Promise<Decision>, req: Req, res: ServerResponse, ex: Exchange, then: () => void): void {
  const next = (d: Decision): void => {
    const add = ex.responseHeaders
    if (add !== undefined) {
      for (const name in add) res.setHeader(name, add[name] as string | string[])
      ex.responseHeaders = undefined
    }
    if (d.respond) return sendLocal(res, d.response)
    if (!syncUrl(req, res, ex)) return
    then()
  }
  if (result instanceof Promise) result.then(next, (err: unknown) => { sendError(res, err, ex.log) })
  else next(result)
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
function syncUrl (req: Req, res: ServerResponse, ex: Exchange): boolean {
  if (!ex.pathChanged && !ex.queryChanged) return true
  const base = req.baseUrl ?? ''
  const query = ex.query === '' ? '' : `?${ex.query}`
  if (base === '') {
    req.url = ex.url
  } else if (ex.path === base || ex.path.startsWith(`${base}/`)) {
    const url = (ex.path.slice(base.length) || '/') + query
    // At the mount path itself the router added a "/" that it removes again when next() is
    // called. Express 5's router removes it only if req.url is still the root; Express 4's
    // removes the first character of whatever req.url is, so give it one more "/" to take.
    const strips = legacyRouter(req) && pathOf(req.originalUrl ?? '') === base && url !== '/' && !url.startsWith('/?')
    req.url = strips ? `/${url}` : url
  } else {
    const err = new WaferError('WAFER_ERR_MIDDLEWARE_ORDER', ['@wafer/express',
      `a filter rewrote the path to ${ex.path}, outside ${base}, where this chain is mounted; run path-rewriting chains with app.use() at the top level`])
    sendError(res, err, ex.log, 'A filter rewrote the path outside the router it runs in')
    return false
  }
  // Express 5 parses req.query from req.url on each access; Express 4 parsed it once, before Wafer.
  if (ex.queryChanged && Object.getOwnPropertyDescriptor(req, 'query')?.writable === true) {
    const parser = req.app?.get('query parser fn')
    ;(req as { query?: unknown }).query = typeof parser === 'function' ? parser(ex.query) : parseQuery(ex.query)
  }
  ex.pathChanged = false
  ex.queryChanged = false
  return true
}
