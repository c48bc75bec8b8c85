import type { IncomingMessage } from 'node:http'
import { WaferError, type ChainSpec, type GatewayConfig, type KvStore, type Wafer, type WaferLogger, type WaferObserver, type WaferOptions } from '@wafer/core'

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
  /** A pino logger; each request logs through a child carrying `reqId`. Default: the runtime's (pino). */
  logger?: WaferLogger
  /** The request id filters see and log lines carry. Default: `req.id` when set, else `req-1`, `req-2`, ... */
  genReqId?: (req: IncomingMessage) => string
  /** Requests `wafer()` holds while the runtime loads; beyond it they get 503. Default 1024. */
  maxWaiting?: number
}

/** The options after validation: defaults filled, frozen. */
export interface ResolvedOptions {
  readonly chain: ChainSpec | undefined
  readonly bodyLimit: number
  readonly responseBodyLimit: number
  readonly maxWaiting: number
  readonly watch: boolean
  readonly logger: WaferLogger | undefined
  readonly genReqId: ((req: IncomingMessage) => string) | undefined
}

const DEFAULTS = { bodyLimit: 1024 * 1024, responseBodyLimit: 1024 * 1024, maxWaiting: 1024, watch: false }

const KNOWN = ['config', 'filters', 'chains', 'chain', 'store', 'observer', 'moduleCacheSize', 'wafer', 'watch',
  'bodyLimit', 'responseBodyLimit', 'logger', 'genReqId', 'maxWaiting']

export function invalid (message: string): never {
  throw new WaferError('WAFER_ERR_OPTIONS_INVALID', [`@wafer/express: ${message}`])
}

function limit (options: WaferExpressOptions, key: 'bodyLimit' | 'responseBodyLimit' | 'maxWaiting'): number {
  const value = options[key] ?? DEFAULTS[key]
  if (!Number.isSafeInteger(value) || value < 0) invalid(`"${key}" must be a non-negative integer, got ${JSON.stringify(options[key])}`)
  return value
}

/** A chain as written in options: a chain's name or an array of filter names. */
export function checkSpec (spec: unknown, where: string): ChainSpec {
  if (typeof spec === 'string' || (Array.isArray(spec) && spec.every((n) => typeof n === 'string'))) return spec as ChainSpec
  return invalid(`${where} must be a chain name or an array of filter names, got ${JSON.stringify(spec)}`)
}

/** Validates everything that can be checked without loading anything, so mistakes throw where `wafer()` is called. */
export function resolveOptions (options: WaferExpressOptions): ResolvedOptions {
  if (typeof options !== 'object' || options === null) invalid(`expected an options object, got ${JSON.stringify(options)}`)
  for (const key of Object.keys(options)) {
    if (!KNOWN.includes(key)) invalid(`unknown option "${key}"; known options: ${KNOWN.join(', ')}`)
  }
  if (options.config !== undefined) {
    if (options.filters !== undefined || options.chains !== undefined || options.wafer !== undefined) {
      invalid('"config" declares the filters and chains; pass either "config" or "filters"/"chains"/"wafer", not both')
    }
    if (typeof options.config !== 'string' && (typeof options.config !== 'object' || options.config === null)) {
      invalid(`"config" must be a file path or a config object, got ${JSON.stringify(options.config)}`)
    }
  } else if (options.wafer === undefined && options.filters === undefined) {
    invalid('pass "config", "filters" (filter name -> { module, config }) or a created runtime as "wafer"')
  }
  if (options.wafer !== undefined && (typeof options.wafer !== 'object' || options.wafer === null || typeof options.wafer.enter !== 'function')) {
    invalid('"wafer" must be a runtime made with createWafer()')
  }
  if (options.wafer !== undefined && (options.filters !== undefined || options.chains !== undefined)) {
    invalid('"wafer" is a runtime with its own filters and chains; pass either "wafer" or "filters"/"chains", not both')
  }
  const watch = options.watch ?? DEFAULTS.watch
  if (typeof watch !== 'boolean') invalid(`"watch" must be a boolean, got ${JSON.stringify(options.watch)}`)
  if (watch && typeof options.config !== 'string') invalid('"watch" needs "config" to be a file path')
  if (options.genReqId !== undefined && typeof options.genReqId !== 'function') invalid('"genReqId" must be a function (req) => string')
  if (options.logger !== undefined && (typeof options.logger !== 'object' || options.logger === null || typeof options.logger.child !== 'function')) {
    invalid('"logger" must be a pino logger (an object with info, error, child, ...)')
  }
  return Object.freeze({
    chain: options.chain === undefined ? undefined : checkSpec(options.chain, '"chain"'),
    bodyLimit: limit(options, 'bodyLimit'),
    responseBodyLimit: limit(options, 'responseBodyLimit'),
    maxWaiting: limit(options, 'maxWaiting'),
    watch,
    logger: options.logger,
    genReqId: options.genReqId
  })
}
