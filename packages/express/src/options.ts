import type { IncomingMessage } from 'node:http'
import { resolveAdapterOptions, WaferError, type ChainSpec, type GatewayConfig, type KvStore, type ResolvedAdapterOptions, type Wafer, type WaferLogger, type WaferObserver, type WaferOptions } from '@wafer/core'

/** The middleware's options: those of `@wafer/fastify` that apply to Express, plus what Fastify itself provides there. */
export interface WaferExpressOptions {
  /**
   * A gateway config (docs/config.md): a YAML/JSON file path, or the object. Its filters and
   * chains are loaded. A config that declares `routes` is refused: those are the gateway's.
   */
  config?: string | GatewayConfig
  /** Filters by name (not with `config` or `wafer`). */
  filters?: WaferOptions['filters']
  /** Named chains: name -> filter names in order (not with `config` or `wafer`). */
  chains?: WaferOptions['chains']
  /** The chain the middleware itself runs: filter names, or a chain's name. Default: none. */
  chain?: ChainSpec
  /** The host key-value store. Default: in memory. */
  store?: KvStore
  /** Receives filter calls and reloads, for metrics. */
  observer?: WaferObserver
  /** Distinct compiled modules kept. Default 64. */
  moduleCacheSize?: number
  /** An already created runtime to use; the middleware does not close it. */
  wafer?: Wafer
  /** With `config` as a file path: reload when it or a module it names changes. Default false. */
  watch?: boolean
  /** Bytes of request body that filters needing the body may read. Default 1 MiB; more is refused with 413. */
  bodyLimit?: number
  /** Bytes of a reply that filters needing the response body may buffer. Default 1 MiB. */
  responseBodyLimit?: number
  /**
   * A pino logger; each request logs through a child carrying `reqId`. `false`: no logging (as
   * `Fastify({ logger: false })`). Default: the runtime's (pino).
   */
  logger?: WaferLogger | false
  /** The request id filters see and log lines carry. Default: `req.id` when set, else `req-1`, `req-2`, ... */
  genReqId?: (req: IncomingMessage) => string
  /** Requests `wafer()` holds while the runtime loads; beyond it they get 503. Default 1024. */
  maxWaiting?: number
}

/** The options after validation: defaults filled, frozen. */
export type ResolvedOptions = ResolvedAdapterOptions

export function invalid (message: string): never {
  throw new WaferError('WAFER_ERR_OPTIONS_INVALID', [`@wafer/express: ${message}`])
}

/**
 * Validates everything that can be checked without loading anything (filters included), with
 * the schema the Fastify plugin and createWafer share, so mistakes throw where `wafer()` is
 * called and get the same answer from every adapter.
 */
export function resolveOptions (options: WaferExpressOptions): ResolvedOptions {
  return resolveAdapterOptions('@wafer/express', options)
}
