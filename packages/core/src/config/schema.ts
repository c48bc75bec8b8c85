import { CAPABILITIES, configDefaults as d, FAILURE_POLICIES, HTTP_METHODS, LOG_LEVELS, MATCH_TYPES, NAME_PATTERN, TIMER_MAX } from './defaults.js'

/*
 * The JSON Schema (draft-07, which ajv's default build implements) of a Wafer config file.
 * docs/config.schema.json is generated from this object by scripts/config-schema.mjs, and a
 * test keeps the two equal. Every object is closed (`additionalProperties: false`): a
 * misspelt key is an error, never silently ignored. Checks a schema cannot express (references
 * between sections, pool.min <= pool.max, upstream XOR respond) are in check-config.ts.
 */

export const PATH_PATTERN = '^/[^?#\\s]*$'
export const HOST_PATTERN = '^([A-Za-z0-9_.-]+|\\[[0-9A-Fa-f:.]+\\])(:[0-9]{1,5})?$'
export const HEADER_NAME_PATTERN = "^[!#$%&'*+.^_`|~0-9A-Za-z-]+$"
export const HEADER_VALUE_PATTERN = '^[\\t\\u0020-\\u007e\\u0080-\\u00ff]*$'
export const URL_PATTERN = '^https?://'
export const BIND_PATTERN = '^\\S+$'
export const ENV_NAME_PATTERN = '^[A-Za-z_][A-Za-z0-9_]*$'

export type Node = Record<string, unknown>

export function int (description: string, minimum: number, maximum?: number, def?: number): Node {
  return { type: 'integer', description, minimum, ...(maximum === undefined ? {} : { maximum }), ...(def === undefined ? {} : { default: def }) }
}

export function closed (description: string, properties: Record<string, Node>, required?: string[]): Node {
  return { type: 'object', description, additionalProperties: false, ...(required === undefined ? {} : { required }), properties }
}

export const name = (description: string): Node => ({ type: 'string', description, pattern: NAME_PATTERN })

export const anyJson = (description: string): Node => ({ description })

const chainEntry: Node = {
  type: ['string', 'object'],
  description: 'A filter name, or { filter, enabled, config } to disable the entry or override the filter\'s config for this use.',
  if: { type: 'string' },
  then: name('Shorthand: the name of a declared filter.'),
  else: closed('Long form of a chain entry.', {
    filter: name('The name of a declared filter.'),
    enabled: { type: 'boolean', description: 'false drops this entry from the chain.', default: d.entry.enabled },
    config: anyJson('Replaces the filter\'s config for this use only. The use becomes a derived filter named <filter>.<chain>.<position> (<filter>.route<index>.<position> in a route\'s inline chain).')
  }, ['filter'])
}

const chain: Node = {
  type: 'array',
  description: 'Filters in the order they see the request (responses pass through them in reverse).',
  items: chainEntry
}

const pool = d.filter.pool

/** A filter as a config file declares it; options-schema.ts derives createWafer's from it. */
export const filterSchema = closed('A WebAssembly filter.', {
  module: { type: 'string', description: 'Path to the .wasm file; a relative path is resolved against the directory of the config file.', minLength: 1 },
  config: { ...anyJson('Any JSON value, handed to the filter\'s wafer_init.'), default: {} },
  pool: closed('Instance pool sizing. Omitted fields take the runtime defaults.', {
    min: int('Instances created up front and kept warm. Must not exceed max.', 0, undefined, pool.min),
    max: int('Most instances alive at once (busy + idle).', 1, undefined, pool.max),
    maxWaiting: int('Most requests waiting for an instance when all are busy; more fail at once with 503.', 0, undefined, pool.maxWaiting),
    acquireTimeoutMs: int('How long a request may wait for an instance before it fails with 503.', 1, TIMER_MAX, pool.acquireTimeoutMs),
    maxUses: int('Replace an instance after this many uses; 0 never replaces.', 0, undefined, pool.maxUses)
  }),
  failurePolicy: {
    type: 'string',
    description: 'What a request gets when this filter fails: fail-closed answers with a JSON error, fail-open skips the filter.',
    enum: [...FAILURE_POLICIES],
    default: d.filter.failurePolicy
  },
  limits: closed('What one call of the filter may take (docs/config.md, "limits").', {
    fuel: {
      description: 'Fuel per phase (CPU), summed over every guest entry of one request phase (or response phase) including resumes: the module is instrumented at load and a phase that uses more traps (WAFER_ERR_FILTER_FUEL). false turns metering off.',
      oneOf: [{ type: 'integer', minimum: 1000 }, { const: false }],
      default: d.filter.limits.fuel
    },
    memoryPages: int('Most linear memory the guest may grow to, in 64 KiB pages; growth past it fails inside the guest.', 1, 65536),
    timeoutMs: int('Deadline of one phase of one request, in milliseconds, counted from the first wait on an asynchronous host operation (all waits and resumes together; WAFER_ERR_FILTER_DEADLINE).', 1, TIMER_MAX, d.filter.limits.timeoutMs),
    maxResumes: int('Most wafer_on_resume entries in one phase of one request (WAFER_ERR_FILTER_RESUMES).', 1, 1000000, d.filter.limits.maxResumes),
    maxOutputBytes: int('Most bytes the host takes from the guest in one write: a header value, a path, a body, a local response (WAFER_ERR_ABI_BAD_OUTPUT).', 1, 1073741824, d.filter.limits.maxOutputBytes)
  }),
  breaker: closed('The circuit breaker: after this many failures in a row the filter is not called (its failure policy answers) until the cool-down ends.', {
    failures: int('Consecutive failures that open it; 0 turns it off.', 0, undefined, d.filter.breaker.failures),
    cooldownMs: int('How long it stays open before one trial call, in milliseconds.', 1, TIMER_MAX, d.filter.breaker.cooldownMs)
  }),
  capabilities: {
    type: 'array',
    description: 'Host features the filter may use; a module that imports a host function outside them fails to load (WAFER_ERR_CAPABILITY_DENIED). Omitted: all of them.',
    uniqueItems: true,
    items: { type: 'string', description: 'A host capability.', enum: [...CAPABILITIES] }
  },
  proxyWasm: closed('Settings of a Proxy-Wasm filter (docs/proxy-wasm.md); other ABIs ignore them.', {
    requestBody: { type: 'boolean', description: 'Read the request body (up to the body limit) and call proxy_on_request_body with all of it.', default: false },
    responseBody: { type: 'boolean', description: 'Buffer the reply\'s body (up to responseBodyLimit) and call proxy_on_response_body with all of it.', default: false },
    vmConfig: anyJson('The VM configuration proxy_on_vm_start reads: a string verbatim, any other value as its JSON text. Omitted: empty.'),
    rootId: { type: 'string', description: 'Envoy\'s root_id: what the plugin_root_id property answers. Omitted: empty.' },
    vmId: { type: 'string', description: 'Envoy\'s vm_id: what the plugin_vm_id property answers. Omitted: empty.' },
    upstreams: {
      type: 'object',
      description: 'Upstreams proxy_http_call may call, by name (Envoy\'s clusters): name -> base URL, http or https, optionally with a path prefix the call\'s :path is appended to. Omitted: none (every call gets BAD_ARGUMENT).',
      additionalProperties: { type: 'string', description: 'A base URL: http(s)://host[:port][/prefix], without query or fragment.', pattern: '^https?://[^/?#\\s]+(/[^?#\\s]*)?$' }
    }
  })
}, ['module'])

const route = closed('A route: which requests it matches, the filters they go through, and where they go.', {
  match: closed('Which requests this route takes.', {
    path: { type: 'string', description: 'The path to match; must start with "/". Meaning depends on type.', pattern: PATH_PATTERN },
    type: {
      type: 'string',
      description: 'prefix: path and everything below it, by whole segments (/api matches /api and /api/x, not /apix); exact: that path only; pattern: Fastify route syntax (/users/:id, /files/*).',
      enum: [...MATCH_TYPES],
      default: d.match.type
    },
    methods: {
      type: 'array',
      description: 'HTTP methods this route takes, upper case. Default: GET, HEAD, POST, PUT, DELETE, PATCH and OPTIONS.',
      minItems: 1,
      uniqueItems: true,
      items: { type: 'string', description: 'An HTTP method.', enum: [...HTTP_METHODS] }
    },
    host: { type: 'string', description: 'Only requests whose Host header equals this value (include :port when clients send one). Lower-cased when loaded.', pattern: HOST_PATTERN }
  }, ['path']),
  chain: {
    type: ['string', 'array'],
    description: 'The name of a declared chain, or an inline list of chain entries. Omitted: no filters.',
    if: { type: 'string' },
    then: name('The name of a declared chain.'),
    else: chain
  },
  upstream: { type: 'string', description: 'Proxy matched requests to this http(s) URL, which may have a base path. Exactly one of upstream and respond.', pattern: URL_PATTERN },
  timeoutMs: int('Upstream timeout in milliseconds. Only with upstream.', 1, TIMER_MAX, d.upstream.timeoutMs),
  respond: closed('Answer matched requests with this static response. Exactly one of upstream and respond.', {
    status: int('HTTP status.', 200, 599, d.respond.status),
    headers: {
      type: 'object',
      description: 'Response headers, name -> value.',
      propertyNames: { type: 'string', description: 'An HTTP header name (a token).', pattern: HEADER_NAME_PATTERN },
      additionalProperties: { type: 'string', description: 'A header value: an RFC 9110 field value (visible ASCII, space, tab, U+0080-U+00FF).', pattern: HEADER_VALUE_PATTERN },
      default: {}
    },
    body: { type: 'string', description: 'Response body.', default: d.respond.body }
  })
}, ['match'])

export const configSchema = deepFreeze({
  $schema: 'http://json-schema.org/draft-07/schema#',
  title: 'Wafer gateway configuration',
  ...closed('A Wafer gateway config file (YAML or JSON): WebAssembly filters, the chains they form, and the routes that use them.', {
    $schema: { type: 'string', description: 'Ignored by Wafer; lets editors find this schema.' },
    version: { description: 'Config format version. Optional; if present it must be 1.', const: 1 },
    server: closed('The public HTTP server.', {
      host: { type: 'string', description: 'Address to listen on.', pattern: BIND_PATTERN, default: d.server.host },
      port: int('Port to listen on; 0 picks any free port.', 0, 65535, d.server.port),
      bodyLimit: int('Largest request body accepted, in bytes; larger bodies get 413.', 0, undefined, d.server.bodyLimit),
      headerLimit: int('Largest request header section accepted, in bytes (Node.js maxHeaderSize); larger get 431.', 1024, 1048576, d.server.headerLimit),
      logger: closed('Logging.', {
        level: { type: 'string', description: 'pino log level.', enum: [...LOG_LEVELS], default: d.server.logLevel }
      }),
      shutdownTimeoutMs: int('How long a graceful shutdown waits for requests in flight, in milliseconds.', 0, TIMER_MAX, d.server.shutdownTimeoutMs)
    }),
    admin: closed('The admin server (status, metrics and reload).', {
      enabled: { type: 'boolean', description: 'Whether to start the admin server.', default: d.admin.enabled },
      host: { type: 'string', description: 'Address to listen on. On an address other than loopback, state-changing endpoints (POST /_wafer/reload) are refused unless token is set.', pattern: BIND_PATTERN, default: d.admin.host },
      port: int('Port to listen on; 0 picks any free port.', 0, 65535, d.admin.port),
      token: {
        description: 'The bearer token state-changing endpoints require (Authorization: Bearer <token>), at least 16 characters: the token itself, or { env: NAME } to read it from an environment variable at startup (recommended). Status and metrics do not need it.',
        oneOf: [
          { type: 'string', description: 'The token itself.', minLength: 1 },
          closed('Read the token from an environment variable at startup.', {
            env: { type: 'string', description: 'The environment variable\'s name.', pattern: ENV_NAME_PATTERN }
          }, ['env'])
        ]
      }
    }),
    state: closed('Host state: the key-value store filters keep counters in. In memory (one process) unless redis is given.', {
      memory: closed('Keep state in this process (the default).', {
        maxKeys: int('Most keys kept; the least recently used are evicted.', 1, undefined, d.state.maxKeys)
      }),
      redis: closed('Keep state in Redis, shared by every gateway process using the same server.', {
        url: { type: 'string', description: 'redis:// or rediss:// URL.', pattern: '^rediss?://' },
        keyPrefix: { type: 'string', description: 'Prefix of every key, so several gateways can share a server.', default: d.state.keyPrefix },
        timeoutMs: int('Per-operation timeout in milliseconds; past it the operation fails and the filter\'s failure policy decides.', 1, 60000, d.state.timeoutMs),
        sharedDataTimeoutMs: int('Longest a Proxy-Wasm shared-data call blocks the event loop waiting for Redis, in milliseconds; past it the filter gets INTERNAL_FAILURE.', 1, 1000, d.state.sharedDataTimeoutMs)
      }, ['url'])
    }),
    reload: closed('Hot reload: what triggers it and how long a replaced version may finish its requests.', {
      watch: { type: 'boolean', description: 'Watch this file and every module it references, and reload when one changes (wafer serve).', default: d.reload.watch },
      debounceMs: int('Quiet time after the last change before reloading, in milliseconds; editors and builds write several times.', 0, 60000, d.reload.debounceMs),
      drainTimeoutMs: int('How long the replaced version may keep serving requests that started on it, in milliseconds.', 0, TIMER_MAX, d.reload.drainTimeoutMs)
    }),
    filters: {
      type: 'object',
      description: 'The filters, by name. The name prefixes the filter\'s key-value keys and appears in logs.',
      propertyNames: name('A filter name: 1-64 letters, digits, "_", "." or "-", starting with a letter or digit.'),
      additionalProperties: filterSchema
    },
    chains: {
      type: 'object',
      description: 'Named chains: ordered lists of filters that routes refer to by name.',
      propertyNames: name('A chain name: 1-64 letters, digits, "_", "." or "-", starting with a letter or digit.'),
      additionalProperties: chain
    },
    routes: {
      type: 'array',
      description: 'Routes. Each has exactly one of upstream and respond.',
      items: route
    }
  }, ['filters'])
})

function deepFreeze<T> (value: T): T {
  if (typeof value === 'object' && value !== null) {
    for (const v of Object.values(value)) deepFreeze(v)
    Object.freeze(value)
  }
  return value
}
