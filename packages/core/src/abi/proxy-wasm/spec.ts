import type { FuncType, ValType } from '../../wasm/binary.js'

/**
 * The Proxy-Wasm ABI as tables (proxy-wasm/spec abi-versions/v0.1.0, v0.2.0, v0.2.1, and
 * proxy-wasm-cpp-host where the two differ): what a module may import, what the host calls,
 * and how much of each Wafer supports. docs/proxy-wasm.md's support matrix is tested against
 * these tables.
 */
export const ABI_ID = 'proxy-wasm'
/** The ABI versions this host runs, as their markers spell them. */
export const VERSIONS = ['0_2_1', '0_2_0', '0_1_0'] as const
export type AbiVersion = typeof VERSIONS[number]

/** `proxy_status_t`. */
export const enum Status {
  Ok = 0, NotFound = 1, BadArgument = 2, SerializationFailure = 3, ParseFailure = 4,
  InvalidMemoryAccess = 6, Empty = 7, CasMismatch = 8, InternalFailure = 10, Unimplemented = 12
}
/** `wasi_errno_t`, the values the WASI stubs answer with. */
export const enum Errno { Success = 0, BadF = 8, Fault = 21, Inval = 28, NoSys = 52, NotSup = 58 }
/** `proxy_map_type_t`. */
export const enum MapType { RequestHeaders = 0, RequestTrailers = 1, ResponseHeaders = 2, ResponseTrailers = 3, HttpCallResponseHeaders = 6, HttpCallResponseTrailers = 7, Max = 7 }
/** `proxy_buffer_type_t`. */
export const enum BufferType { RequestBody = 0, ResponseBody = 1, HttpCallResponseBody = 4, VmConfiguration = 6, PluginConfiguration = 7, Max = 8 }
/** `proxy_stream_type_t`: an HTTP filter's request and response; a network filter's downstream and upstream connections. */
export const enum StreamType { Request = 0, Response = 1, Downstream = 2, Upstream = 3, Max = 3 }

/** How much of a host call or callback Wafer implements (docs/proxy-wasm.md). */
export type Support = 'supported' | 'partial' | 'not supported'

const TYPES: Record<string, ValType> = { i: 'i32', I: 'i64' }
/** A signature from letters: `sig('iii', 'i')` is (i32, i32, i32) -> i32; `I` is i64. */
export const sig = (params: string, results = ''): FuncType => ({
  params: [...params].map((c) => TYPES[c] as ValType),
  results: [...results].map((c) => TYPES[c] as ValType)
})

export interface HostCall {
  /** Every signature the host accepts: the spec's, and where a published SDK differs, that one too. */
  sigs: readonly FuncType[]
  support: Support
  /**
   * For calls Wafer does not implement: the status they answer with, so a module that imports
   * them still loads and gets the spec's "not found" or "unimplemented".
   */
  answer?: Status
  /** The capability a filter needs to import it (docs/config.md `capabilities`). */
  capability?: string
}

const call = (params: string, support: Support, more: Partial<HostCall> = {}): HostCall =>
  ({ sigs: [sig(params, 'i')], support, ...more })
const none = (params: string, answer: Status, more: Partial<HostCall> = {}): HostCall =>
  ({ sigs: [sig(params, 'i')], support: 'not supported', answer, ...more })

/**
 * The `env.proxy_*` host calls of every ABI version. The cpp-host links only a version's own
 * calls (`get_configuration`, `continue_request`, `continue_response` and `clear_route_cache`
 * in 0.1.0; `continue_stream`, `close_stream` in 0.2.x; `get_log_level` in 0.2.1); Wafer gives
 * every version all of them, which changes nothing for a module that imports only its own.
 */
export const PROXY_CALLS: Readonly<Record<string, HostCall>> = {
  proxy_log: call('iii', 'supported', { capability: 'log' }),
  proxy_get_log_level: call('i', 'supported', { capability: 'log' }),
  proxy_get_current_time_nanoseconds: call('i', 'supported', { capability: 'clock' }),
  proxy_set_effective_context: call('i', 'supported'),
  proxy_done: call('', 'supported'),
  proxy_get_header_map_value: call('iiiii', 'supported'),
  proxy_get_header_map_pairs: call('iii', 'supported'),
  proxy_get_header_map_size: call('ii', 'supported'),
  proxy_add_header_map_value: call('iiiii', 'supported'),
  proxy_replace_header_map_value: call('iiiii', 'supported'),
  proxy_remove_header_map_value: call('iii', 'supported'),
  proxy_set_header_map_pairs: call('iii', 'supported'),
  proxy_get_buffer_bytes: call('iiiii', 'partial'),
  proxy_get_buffer_status: call('iii', 'partial'),
  proxy_set_buffer_bytes: call('iiiii', 'partial'),
  proxy_send_local_response: call('iiiiiiii', 'supported'),
  proxy_continue_stream: call('i', 'partial'),
  proxy_continue_request: call('', 'partial'),
  proxy_continue_response: call('', 'partial'),
  proxy_close_stream: call('i', 'supported'),
  proxy_clear_route_cache: call('', 'supported'),
  proxy_get_configuration: call('ii', 'supported'),
  proxy_get_property: call('iiii', 'partial'),
  proxy_set_property: none('iiii', Status.NotFound),
  proxy_get_status: none('iii', Status.NotFound),
  proxy_call_foreign_function: none('iiiiii', Status.NotFound),
  proxy_get_shared_data: call('iiiii', 'supported', { capability: 'kv' }),
  proxy_set_shared_data: call('iiiii', 'supported', { capability: 'kv' }),
  proxy_register_shared_queue: call('iii', 'supported', { capability: 'kv' }),
  proxy_resolve_shared_queue: call('iiiii', 'supported', { capability: 'kv' }),
  proxy_enqueue_shared_queue: call('iii', 'supported', { capability: 'kv' }),
  proxy_dequeue_shared_queue: call('iii', 'supported', { capability: 'kv' }),
  proxy_define_metric: call('iiii', 'supported'),
  proxy_increment_metric: call('iI', 'supported'),
  proxy_record_metric: call('iI', 'supported'),
  proxy_get_metric: call('ii', 'supported'),
  proxy_set_tick_period_milliseconds: call('i', 'supported'),
  proxy_http_call: call('iiiiiiiiii', 'partial', { capability: 'http' }),
  // @gcoredev/proxy-wasm-sdk-as declares the two gRPC calls without initial metadata.
  proxy_grpc_call: { ...none('iiiiiiiiiiii', Status.Unimplemented), sigs: [sig('iiiiiiiiiiii', 'i'), sig('iiiiiiiiii', 'i')] },
  proxy_grpc_stream: { ...none('iiiiiiiiii', Status.Unimplemented), sigs: [sig('iiiiiiiiii', 'i'), sig('iiiiiii', 'i')] },
  proxy_grpc_send: none('iiii', Status.NotFound),
  proxy_grpc_cancel: none('i', Status.NotFound),
  proxy_grpc_close: none('i', Status.NotFound)
}

/** Other `env` imports the cpp-host provides, for Emscripten builds. */
export const ENV_EXTRAS: Readonly<Record<string, FuncType>> = {
  emscripten_notify_memory_growth: sig('i'),
  pthread_equal: sig('ii', 'i')
}

export interface Callback {
  sig: FuncType
  support: Support
}

const cb = (params: string, results: string, support: Support): Callback => ({ sig: sig(params, results), support })

/** The exports the host may call, with the signatures it calls them with (0.2.x; see `V010_HEADERS`). */
export const CALLBACKS: Readonly<Record<string, Callback>> = {
  _initialize: cb('', '', 'supported'),
  main: cb('ii', 'i', 'supported'),
  _start: cb('', '', 'supported'),
  malloc: cb('i', 'i', 'supported'),
  proxy_on_memory_allocate: cb('i', 'i', 'supported'),
  proxy_on_context_create: cb('ii', '', 'supported'),
  proxy_on_vm_start: cb('ii', 'i', 'supported'),
  proxy_on_configure: cb('ii', 'i', 'supported'),
  proxy_on_request_headers: cb('iii', 'i', 'supported'),
  proxy_on_request_body: cb('iii', 'i', 'supported'),
  proxy_on_request_trailers: cb('ii', 'i', 'not supported'),
  proxy_on_response_headers: cb('iii', 'i', 'supported'),
  proxy_on_response_body: cb('iii', 'i', 'supported'),
  proxy_on_response_trailers: cb('ii', 'i', 'not supported'),
  proxy_on_done: cb('i', 'i', 'supported'),
  proxy_on_log: cb('i', '', 'supported'),
  proxy_on_delete: cb('i', '', 'supported'),
  proxy_on_tick: cb('i', '', 'supported'),
  proxy_on_queue_ready: cb('ii', '', 'supported'),
  proxy_on_http_call_response: cb('iiiii', '', 'supported'),
  proxy_on_grpc_receive_initial_metadata: cb('iii', '', 'not supported'),
  proxy_on_grpc_receive: cb('iii', '', 'not supported'),
  proxy_on_grpc_receive_trailing_metadata: cb('iii', '', 'not supported'),
  proxy_on_grpc_close: cb('iii', '', 'not supported'),
  proxy_on_foreign_function: cb('iii', '', 'not supported'),
  proxy_on_new_connection: cb('i', 'i', 'not supported'),
  proxy_on_downstream_data: cb('iii', 'i', 'not supported'),
  proxy_on_downstream_connection_close: cb('ii', '', 'not supported'),
  proxy_on_upstream_data: cb('iii', 'i', 'not supported'),
  proxy_on_upstream_connection_close: cb('ii', '', 'not supported')
}

/** In ABI 0.1.0 the headers callbacks have no `end_of_stream`. */
export const V010_HEADERS = sig('ii', 'i')

/**
 * The exports that start a fuel budget: instantiation, each lifecycle callback and each phase.
 * Not the allocator, which the host calls inside a host call and runs on what is left of the
 * callback that made it; not `main`, which follows `_initialize` on its budget.
 */
export const PROXY_BUDGET_ENTRIES: readonly string[] = [
  '_initialize', '_start', 'proxy_on_context_create', 'proxy_on_vm_start', 'proxy_on_configure',
  'proxy_on_request_headers', 'proxy_on_request_body', 'proxy_on_response_headers', 'proxy_on_response_body',
  'proxy_on_done', 'proxy_on_log', 'proxy_on_delete',
  'proxy_on_tick', 'proxy_on_queue_ready', 'proxy_on_http_call_response'
]
