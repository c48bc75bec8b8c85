import type { IncomingMessage } from 'node:http'
import { pino } from 'pino'
import { waferError, type WaferError } from '../errors.js'
import type { WaferLogger } from '../logger.js'
import type { ChainSpec } from '../runtime/generation.js'
import { pointer, type ConfigProblem } from './config-error.js'
import { configDefaults as d } from './defaults.js'
import { filterProblems, type Add } from './filter-checks.js'
import { adapterSchemas, filtersSchema, waferOptionsSchema, type AdapterName } from './options-schema.js'
import { schemaProblems } from './validate-schema.js'

/** A WAFER_ERR_OPTIONS_INVALID error from option validation: every problem found, for programs to inspect. */
export type OptionsInvalidError = WaferError & { readonly errors: readonly ConfigProblem[] }

type Obj = Record<string, unknown>
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v)

const schemas = { createWafer: waferOptionsSchema, filters: filtersSchema, ...adapterSchemas }
export type OptionsKind = keyof typeof schemas

/**
 * Every problem with `options` for `kind`, each with its JSON pointer: the schema's, then what
 * a schema cannot say (a filter's pool.min above its pool.max, a config JSON cannot carry, and
 * for the adapters, options that exclude each other). A place already reported is not reported
 * again. The config file's filters go through the same schema nodes and checks (check-config.ts).
 */
export function optionsProblems (kind: OptionsKind, options: unknown): ConfigProblem[] {
  const problems = schemaProblems(options, schemas[kind])
  const reported = new Set(problems.map((p) => p.path))
  const add: Add = (path, message, value) => {
    if (reported.has(path)) return
    reported.add(path)
    problems.push({ path, message, value })
  }
  if (!isObj(options)) return problems
  if (isObj(options.filters)) {
    for (const [name, f] of Object.entries(options.filters)) filterProblems(pointer('/filters', name), f, add)
  }
  if (kind === '@wafer/fastify' || kind === '@wafer/express') adapterProblems(kind, options, add)
  return problems
}

/** Throws one WAFER_ERR_OPTIONS_INVALID listing every problem, naming `where` (the API called). */
export function checkOptions (kind: OptionsKind, options: unknown, where: string = kind): void {
  const problems = optionsProblems(kind, options)
  if (problems.length > 0) throw invalidOptions(where, problems)
}

export function invalidOptions (where: string, problems: readonly ConfigProblem[]): OptionsInvalidError {
  const lines = problems.map((p) => `\n  - ${p.path === '' ? '(root)' : p.path}: ${p.message}`).join('')
  const err = waferError('WAFER_ERR_OPTIONS_INVALID', [`${where}:${lines}`])
  // Copies, not frozen: pino's error serializer tags the items of an `errors` array as it walks it.
  return Object.assign(err, { errors: Object.freeze(problems.map((p) => ({ ...p }))) })
}

/** Options the adapter hands to the runtime it creates: meaningless with a runtime given as `wafer`. */
const RUNTIME_ONLY: Record<AdapterName, readonly string[]> = {
  '@wafer/fastify': ['store', 'observer', 'moduleCacheSize', 'logger'],
  // The middleware's logger also writes its request log lines, so it applies with `wafer` too.
  '@wafer/express': ['store', 'observer', 'moduleCacheSize']
}

function adapterProblems (adapter: AdapterName, o: Obj, add: Add): void {
  const given = (key: string): boolean => o[key] !== undefined
  if (given('config') && (given('filters') || given('chains') || given('wafer'))) {
    add('/config', 'declares the filters and chains; pass either "config" or "filters"/"chains"/"wafer", not both', o.config)
  } else if (given('wafer') && (given('filters') || given('chains'))) {
    add('/wafer', 'is a runtime with its own filters and chains; pass either "wafer" or "filters"/"chains", not both', '(a runtime)')
  } else if (!given('config') && !given('filters') && !given('wafer')) {
    add('', 'pass "config", "filters" (filter name -> { module, config }) or a created runtime as "wafer"', undefined)
  }
  if (given('wafer')) {
    for (const key of RUNTIME_ONLY[adapter]) {
      if (given(key)) add(`/${key}`, `configures the runtime ${adapter} creates; with "wafer" given, pass it to createWafer() instead`, o[key])
    }
  }
  if (o.watch === true && typeof o.config !== 'string') add('/watch', 'needs "config" to be a file path', o.watch)
}

/** A logger that writes nothing: what `logger: false` means, as in Fastify. */
export function resolveLogger (logger: WaferLogger | false | undefined): WaferLogger | undefined {
  return logger === false ? pino({ level: 'silent' }) : logger
}

/** An adapter's own options after validation: defaults filled, frozen. */
export interface ResolvedAdapterOptions {
  readonly chain: ChainSpec | undefined
  readonly watch: boolean
  readonly bodyLimit: number
  readonly responseBodyLimit: number
  readonly maxWaiting: number
  /** The logger given (`false`: a silent one), or undefined for the adapter's default. */
  readonly logger: WaferLogger | undefined
  readonly genReqId: ((req: IncomingMessage) => string) | undefined
}

interface AdapterOptions {
  chain?: ChainSpec
  watch?: boolean
  bodyLimit?: number
  responseBodyLimit?: number
  maxWaiting?: number
  logger?: WaferLogger | false
  genReqId?: (req: IncomingMessage) => string
}

/**
 * Validates an adapter's options, filters included, with the schema both adapters share (one
 * answer for the same options, whichever adapter gets them), and resolves its own settings.
 * Throws WAFER_ERR_OPTIONS_INVALID naming the adapter and every problem.
 */
export function resolveAdapterOptions (adapter: AdapterName, options: unknown): ResolvedAdapterOptions {
  checkOptions(adapter, options)
  const o = options as AdapterOptions
  return Object.freeze({
    chain: Array.isArray(o.chain) ? Object.freeze([...o.chain]) : o.chain,
    watch: o.watch ?? d.adapter.watch,
    bodyLimit: o.bodyLimit ?? d.adapter.bodyLimit,
    responseBodyLimit: o.responseBodyLimit ?? d.adapter.responseBodyLimit,
    maxWaiting: o.maxWaiting ?? d.adapter.maxWaiting,
    logger: resolveLogger(o.logger),
    genReqId: o.genReqId
  })
}
