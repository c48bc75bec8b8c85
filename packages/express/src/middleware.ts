import type { IncomingMessage, ServerResponse } from 'node:http'
import { AdapterRuntime, checkChainSpec, WaferError, type ChainSpec, type ConfigWatcher, type GatewayConfig, type ReloadReport, type Wafer } from '@wafer/core'
import { chainMiddleware, type ChainContext, type WaferHandler } from './chain-middleware.js'
import { refuseRoutes } from './config-source.js'
import { resolveOptions, type WaferExpressOptions } from './options.js'
import { sendError } from './replies.js'
import { requestIds } from './request-log.js'

/**
 * Express middleware running the global chain (`options.chain`; none: it passes requests on),
 * with what else an app needs from Wafer attached.
 */
export interface WaferMiddleware extends WaferHandler {
  /**
   * A middleware that runs `spec` (filter names, or a declared chain's name), for a router or a
   * route: `router.use(mw.chain('strict'))`, `app.get('/x', mw.chain(['auth']), handler)`. It
   * runs after any chain that ran before it on the same request, on the same generation.
   * Throws `WAFER_ERR_CHAIN_INVALID` if the chain does not resolve (once loaded).
   */
  chain (spec: ChainSpec): WaferHandler
  /** Resolves to the runtime once every filter is loaded; rejects with the coded load error. */
  readonly ready: Promise<Wafer>
  /** The runtime: its filters, chains, `status()` and `reload()`. Throws until `ready` resolved. */
  readonly wafer: Wafer
  /**
   * Reloads the gateway config the middleware was created with (or `config`, if given): the
   * next version is built off to the side and swapped in, or the running one keeps serving if
   * anything fails. Resolves to the report; rejects only if the middleware failed to load.
   */
  reload (config?: string | GatewayConfig): Promise<ReloadReport>
  /** Stops watching and closes the runtime, unless it was passed in as `wafer`. */
  close (): Promise<void>
}

/**
 * Creates the middleware and resolves once every filter is loaded: a bad module or config
 * rejects with a coded error naming it, before the app serves anything. The primary API.
 */
export async function createWaferMiddleware (options: WaferExpressOptions): Promise<WaferMiddleware> {
  const middleware = wafer(options)
  await middleware.ready
  return middleware
}

/**
 * Creates the middleware at once, for `app.use(wafer(options))`; the filters load in the
 * background. Until they have, requests wait (at most `maxWaiting` of them; more get 503). If
 * loading fails, `ready` rejects: unless the app handles that, Node.js ends the process with
 * the coded error, as a failed startup should; if it does, requests get a 500 JSON error with
 * the load error's code. Options are validated synchronously: a wrong one throws here.
 */
export function wafer (options: WaferExpressOptions): WaferMiddleware {
  const resolved = resolveOptions(options)
  const requestId = resolved.genReqId ?? requestIds()
  // Chains to check once the runtime is loaded; with a runtime given, the global one is checked now.
  const required: ChainSpec[] = []
  if (resolved.chain !== undefined) {
    if (options.wafer !== undefined) options.wafer.requireChain(resolved.chain)
    else required.push(resolved.chain)
  }
  const handlers = new Map<string, WaferHandler>()
  let waiting: Array<() => void> = []
  let ctx: ChainContext | undefined
  let failure: unknown
  let watcher: ConfigWatcher | undefined

  // Creating, reloading and watching are core's, as for Fastify; refusing a config's routes is this middleware's.
  const load = (async (): Promise<AdapterRuntime> => {
    const made = AdapterRuntime.create(options, {
      adapter: '@wafer/express',
      logger: resolved.logger,
      reloadWithoutConfig: 'reload() needs a config: the middleware was created without one',
      accept: refuseRoutes
    })
    // A runtime given as `wafer` comes at once: the middleware serves at once, without waiting a tick.
    const adapter = made instanceof AdapterRuntime ? made : await made
    const { runtime } = adapter
    try {
      for (const spec of required) runtime.requireChain(spec)
      const logger = resolved.logger ?? runtime.logger
      if (resolved.watch && adapter.config !== undefined) watcher = adapter.watch(logger)
      ctx = { runtime, options: resolved, logger, requestId }
    } catch (err) {
      if (adapter.owned) await runtime.close()
      throw err
    }
    return adapter
  })()

  const release = (): void => {
    const held = waiting
    waiting = []
    for (const resume of held) resume()
  }
  load.then(release, (err: unknown) => {
    failure = err
    resolved.logger?.error({ err }, `Wafer failed to load: ${(err as Error).message}`)
    release()
  })
  // Not handled here on purpose: an app that ignores it fails to start, loudly.
  const ready = load.then((adapter) => adapter.runtime)

  /** The handler running `spec`, once loaded; before that, one that waits for the load. */
  const handlerFor = (spec: ChainSpec | undefined): WaferHandler => {
    const key = JSON.stringify(spec ?? null)
    return function waferWhenReady (req: IncomingMessage, res: ServerResponse, next: (err?: unknown) => void) {
      if (ctx === undefined && failure === undefined) {
        if (waiting.length >= resolved.maxWaiting) {
          sendError(res, new WaferError('WAFER_ERR_NOT_READY', ['@wafer/express',
            `${resolved.maxWaiting} requests are already waiting (maxWaiting)`]), resolved.logger)
          return
        }
        waiting.push(() => { if (!res.destroyed) waferWhenReady(req, res, next) })
        return
      }
      if (ctx === undefined) {
        sendError(res, failure, undefined, 'The Wafer filters failed to load')
        return
      }
      if (spec === undefined) return next()
      let handler = handlers.get(key)
      if (handler === undefined) {
        handler = chainMiddleware(spec, ctx)
        handlers.set(key, handler)
      }
      handler(req, res, next)
    }
  }

  const middleware = handlerFor(resolved.chain) as WaferMiddleware
  Object.defineProperties(middleware, {
    ready: { value: ready, enumerable: true },
    wafer: {
      enumerable: true,
      get (): Wafer {
        if (ctx === undefined) {
          throw new WaferError('WAFER_ERR_NOT_READY', ['@wafer/express', '`await middleware.ready` resolves to the runtime once it has loaded'])
        }
        return ctx.runtime
      }
    },
    chain: {
      value (spec: ChainSpec): WaferHandler {
        const checked = checkChainSpec('@wafer/express', spec, 'middleware.chain()')
        if (ctx !== undefined) ctx.runtime.requireChain(checked)
        else if (failure === undefined) required.push(checked)
        return handlerFor(checked)
      }
    },
    reload: { value: async (next?: string | GatewayConfig): Promise<ReloadReport> => (await load).reload(next) },
    close: {
      async value (): Promise<void> {
        const adapter = await load.catch(() => undefined)
        await watcher?.close()
        if (adapter?.owned === true) await adapter.runtime.close()
      }
    }
  })
  return middleware
}
