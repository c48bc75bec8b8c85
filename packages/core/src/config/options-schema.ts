import { configDefaults as d, TIMER_MAX } from './defaults.js'
import type { HostValue } from './host-values.js'
import { closed, filterSchema, int, name, type Node } from './schema.js'

/*
 * The JSON Schemas of the programmatic options: createWafer's, the Fastify plugin's and the
 * Express middleware's. A filter is the config file's filter (schema.ts) except that `module`
 * may also be the bytes, so a filter option means the same in a file and in code, with the
 * same defaults (defaults.ts) and the same error messages. Values JSON cannot hold (a logger,
 * a store, a function) are checked with the `instance` keyword (host-values.ts); `expected`
 * words a node for error messages where its keywords alone would not say it well.
 */

const instance = (kind: HostValue, description: string): Node => ({ description, instance: kind })

const filter: Node = {
  ...filterSchema,
  description: 'A WebAssembly filter: its module (a path or the bytes), config, pool, failure policy, limits, breaker and capabilities.',
  properties: {
    ...(filterSchema.properties as Record<string, Node>),
    module: {
      description: 'Path to the .wasm file, or its bytes.',
      anyOf: [{ type: 'string', minLength: 1 }, { instance: 'bytes' }]
    }
  }
}

const filters: Node = {
  type: 'object',
  description: 'Filters by name. The name prefixes the filter\'s key-value keys and appears in logs, errors and metrics.',
  propertyNames: name('A filter name: 1-64 letters, digits, "_", "." or "-", starting with a letter or digit.'),
  additionalProperties: filter
}

const chains: Node = {
  type: 'object',
  description: 'Named chains: chain name -> filter names in order.',
  additionalProperties: { type: 'array', description: 'Filter names in order.', items: { type: 'string', description: 'A declared filter\'s name.' } }
}

const logger: Node = {
  description: 'A pino logger, or false for none.',
  anyOf: [{ instance: 'logger' }, { const: false }]
}

/** What createWafer, the plugin and the middleware share: the runtime's own settings. */
const runtime: Record<string, Node> = {
  filters,
  chains,
  store: instance('store', 'The host key-value store; it outlives reloads. Default: in memory.'),
  observer: instance('observer', 'Receives filter calls and reloads, for metrics.'),
  logger,
  moduleCacheSize: int('Distinct compiled modules kept in memory.', 1, undefined, d.runtime.moduleCacheSize)
}

export const filtersSchema: Node = closed('The filters of a runtime.', { filters }, ['filters'])

export const waferOptionsSchema: Node = closed('createWafer options.', {
  ...runtime,
  data: { description: 'Adapter data kept with the generation.' },
  drainTimeoutMs: int('How long a replaced generation may keep serving its in-flight requests, in milliseconds.', 0, TIMER_MAX, d.runtime.drainTimeoutMs)
}, ['filters'])

const chainSpec: Node = {
  type: ['string', 'array'],
  description: 'A chain: the name of one in chains, or filter names in order.',
  expected: 'a chain name or an array of filter names',
  items: { type: 'string', description: 'A declared filter\'s name.' }
}

/** The options both adapters take. */
const adapter: Record<string, Node> = {
  config: {
    type: ['string', 'object'],
    description: 'A gateway config (docs/config.md): a YAML/JSON file path, or the object.',
    expected: 'a config file path or a config object',
    minLength: 1
  },
  ...runtime,
  chain: chainSpec,
  wafer: instance('runtime', 'An already created runtime to use; the adapter does not close it.'),
  watch: { type: 'boolean', description: 'With config as a file path: reload when it or a module it names changes.', default: d.adapter.watch },
  responseBodyLimit: int('Bytes of a reply that response-body filters may buffer.', 0, undefined, d.adapter.responseBodyLimit)
}

export const adapterSchemas = {
  '@wafer/fastify': closed('@wafer/fastify options.', adapter),
  '@wafer/express': closed('@wafer/express options.', {
    ...adapter,
    bodyLimit: int('Bytes of request body that filters needing the body may read.', 0, undefined, d.adapter.bodyLimit),
    genReqId: instance('function', 'The request id filters see and log lines carry: (req) => string.'),
    maxWaiting: int('Requests the middleware holds while the runtime loads; beyond it they get 503.', 0, undefined, d.adapter.maxWaiting)
  })
}

export type AdapterName = keyof typeof adapterSchemas
