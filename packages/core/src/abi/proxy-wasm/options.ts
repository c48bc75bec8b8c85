/**
 * A Proxy-Wasm filter's own settings (a filter's `proxyWasm` in the config or in createWafer's
 * options; docs/proxy-wasm.md). Other ABIs ignore them.
 */
export interface ProxyWasmOptions {
  /** Read the request body before the filter runs and call `proxy_on_request_body` with it. Default false. */
  requestBody?: boolean
  /** Buffer the reply's body and call `proxy_on_response_body` with it. Default false. */
  responseBody?: boolean
  /** The VM configuration `proxy_on_vm_start` reads: a string verbatim, other JSON as its text. Default: empty. */
  vmConfig?: unknown
  /** Envoy's `root_id`: the `plugin_root_id` property. Default: empty. */
  rootId?: string
  /** Envoy's `vm_id`: the `plugin_vm_id` property. Default: empty. */
  vmId?: string
  /**
   * Upstreams `proxy_http_call` may call, by name (Envoy's clusters): name -> base URL, `http:`
   * or `https:`, optionally with a path prefix. Default: none.
   */
  upstreams?: Record<string, string>
}
