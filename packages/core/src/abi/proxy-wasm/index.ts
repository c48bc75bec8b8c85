import { registerAbi } from '../registry.js'
import type { GuestAbi } from '../types.js'
import { detectProxyWasm, validateProxyWasm } from './check-module.js'
import { ProxyWasmInstance } from './instance.js'
import { ABI_ID, PROXY_BUDGET_ENTRIES } from './spec.js'

/**
 * The Proxy-Wasm ABI (0.2.1, 0.2.0 and 0.1.0; docs/proxy-wasm.md): filters written for Envoy,
 * Istio and the other Proxy-Wasm hosts. The guest keeps state per stream context, so an
 * instance stays bound to a request from its first phase to `proxy_on_delete`.
 */
export const proxyWasmAbi: GuestAbi = {
  id: ABI_ID,
  version: '0.2.1',
  marker: 'proxy_abi_version_0_2_1 (or 0_2_0, 0_1_0)',
  perRequest: true,
  resident: true,
  budgetEntries: PROXY_BUDGET_ENTRIES,
  detect: detectProxyWasm,
  validate: validateProxyWasm,
  instantiate: (module, _info, host) => new ProxyWasmInstance(module, host)
}

registerAbi(proxyWasmAbi)
