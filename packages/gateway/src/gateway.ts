import { STATUS_CODES } from 'node:http'
import type { Socket } from 'node:net'
import { errorBody, loadConfig, MemoryStore, WaferError, type GatewayConfig, type KvStore, type ReloadReport, type ResolvedConfig } from '@wafer/core'
import { RedisStore } from '@wafer/redis-store'
import wafer from '@wafer/fastify'
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify'
import { adminServer, adminToken } from './admin.js'
import { GatewayMetrics } from './metrics.js'

export interface GatewayOptions {
  /** A gateway config file (YAML or JSON) or the config object; see docs/config.md. */
  config: string | GatewayConfig
  /** Overrides `server.port` (the CLI's `--port`). */
  port?: number
  /** Overrides `server.host`. */
  host?: string
  /** Overrides `admin.port`. */
  adminPort?: number
  /** A logger to use instead of one built from `server.logger.level` (tests pass a silent one). */
  logger?: FastifyBaseLogger
  /** Overrides `reload.watch`: watch the config file and its modules (only for a config file path). */
  watch?: boolean
  /** Overrides `admin.enabled` (cluster workers leave the admin listener to the primary). */
  admin?: boolean
}

export interface GatewayAddresses {
  url: string
  adminUrl: string | undefined
}

/**
 * A Fastify server built from a gateway config: the Wafer plugin with the config's filters,
 * chains and routes, an admin server (status and metrics), and a bounded graceful shutdown.
 */
export class Gateway {
  readonly config: ResolvedConfig
  readonly app: FastifyInstance
  readonly admin: FastifyInstance | undefined
  readonly metrics: GatewayMetrics
  readonly #options: GatewayOptions
  #closing: Promise<void> | undefined

  private constructor (config: ResolvedConfig, app: FastifyInstance, admin: FastifyInstance | undefined, metrics: GatewayMetrics, options: GatewayOptions) {
    this.config = config
    this.app = app
    this.admin = admin
    this.metrics = metrics
    this.#options = options
  }

  /** Validates the config and loads every filter; throws a coded error before anything listens. */
  static async create (options: GatewayOptions): Promise<Gateway> {
    const config = await loadConfig(options.config)
    // Before any filter loads: an unusable admin token must not leave a half-built gateway behind.
    if (options.admin ?? config.admin.enabled) adminToken(config.admin.token, process.env)
    const { server } = config
    const metrics = new GatewayMetrics()
    const headerLimit = server.headerLimit
    const app = Fastify({
      ...(options.logger !== undefined ? { loggerInstance: options.logger } : { logger: { level: server.logLevel } }),
      bodyLimit: server.bodyLimit,
      http: { maxHeaderSize: headerLimit },
      clientErrorHandler: (err: Error & { code?: string }, socket: Socket) => clientError(err, socket, headerLimit),
      return503OnClosing: true,
      // A request id from the client or a load balancer becomes the log reqId and the filters' `id`.
      requestIdHeader: 'x-request-id',
      // Registering the plugin loads every filter, and a module not in the instrumentation
      // cache is instrumented first: seconds per MB of wasm. Fastify's default of 10 s per
      // plugin would fail a large config on a cold cache; the loads have their own bounds
      // (a coded error for a module that cannot load, fuel for start functions and wafer_init).
      pluginTimeout: 0
    }) as unknown as FastifyInstance
    const watch = typeof options.config === 'string' && (options.watch ?? config.reload.watch)
    await app.register(wafer, { config: options.config, observer: metrics, watch, store: stateStore(config, app.log, metrics) })
    await app.ready()
    metrics.attach(app.wafer)
    // Every route's chain is composed now: a filter in none of them is a service filter.
    for (const name of app.wafer.status().services) {
      app.log.info({ filter: name, service: true }, `filter "${name}" is a service filter: in no chain or route, it stays loaded and runs for no request`)
    }
    const admin = (options.admin ?? config.admin.enabled) ? await adminServer(app, config, metrics, () => app.waferReload()) : undefined
    return new Gateway(config, app, admin, metrics, options)
  }

  async listen (): Promise<GatewayAddresses> {
    const { server, admin } = this.config
    const url = await this.app.listen({ port: this.#options.port ?? server.port, host: this.#options.host ?? server.host })
    let adminUrl: string | undefined
    if (this.admin !== undefined) {
      try {
        adminUrl = await this.admin.listen({ port: this.#options.adminPort ?? admin.port, host: admin.host })
      } catch (err) {
        await this.app.close()
        throw err
      }
    }
    return { url, adminUrl }
  }

  /** Reloads the config (SIGHUP and `POST /_wafer/reload` call this). Never rejects. */
  reload (): Promise<ReloadReport> {
    return this.app.waferReload()
  }

  /**
   * Stops accepting connections and lets in-flight requests finish, for at most
   * `server.shutdownTimeoutMs`; connections still open then are closed.
   */
  close (): Promise<void> {
    this.#closing ??= this.#close()
    return this.#closing
  }

  async #close (): Promise<void> {
    const limit = this.config.server.shutdownTimeoutMs
    let timer: NodeJS.Timeout | undefined
    const forced = new Promise<void>((resolve) => {
      timer = setTimeout(() => {
        this.app.log.warn(`requests still in flight after ${limit} ms (server.shutdownTimeoutMs); closing their connections`)
        this.app.server.closeAllConnections()
        resolve()
      }, limit)
      timer.unref()
    })
    await Promise.race([this.app.close(), forced])
    clearTimeout(timer)
    await this.admin?.close()
  }
}

export function createGateway (options: GatewayOptions): Promise<Gateway> {
  return Gateway.create(options)
}

/** The key-value store `state` asks for; the runtime closes it when the app closes. */
function stateStore (config: ResolvedConfig, log: FastifyBaseLogger, metrics: GatewayMetrics): KvStore {
  const { state } = config
  if (state.kind === 'memory') return new MemoryStore({ maxKeys: state.maxKeys })
  return new RedisStore({
    url: state.url,
    keyPrefix: state.keyPrefix,
    timeoutMs: state.timeoutMs,
    sharedDataTimeoutMs: state.sharedDataTimeoutMs,
    logger: log.child({ store: 'redis' }),
    onError: (op, err) => { metrics.onStoreError(op, err) }
  })
}

/** Like Fastify's default client error handler, but the 431 names the limit and carries a code. */
function clientError (err: Error & { code?: string }, socket: Socket, headerLimit: number): void {
  if (err.code === 'ECONNRESET' || socket.destroyed) return
  let json = errorBody(400, undefined, 'Client Error')
  let status = 400
  if (err.code === 'HPE_HEADER_OVERFLOW') {
    const e = new WaferError('WAFER_ERR_HEADERS_TOO_LARGE', [headerLimit])
    status = 431
    json = errorBody(431, e.code, e.message)
  } else if (err.code === 'ERR_HTTP_REQUEST_TIMEOUT') {
    status = 408
    json = errorBody(408, undefined, 'Client Timeout')
  }
  if (socket.writable) {
    socket.write(`HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ''}\r\nContent-Length: ${Buffer.byteLength(json)}\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n${json}`)
  }
  socket.destroy(err)
}
