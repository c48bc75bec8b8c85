import { registerAbi } from '../registry.js'
import type { GuestAbi } from '../types.js'
import { ABI_ID, detectNative, NATIVE_VERSION } from './check-module.js'
import { NativeInstance } from './instance.js'
import { NATIVE_BUDGET_ENTRIES, validateNative } from './spec.js'

/** The native host-call ABI, version 2 (docs/abi.md): stateless per phase. */
export const nativeAbi: GuestAbi = {
  id: ABI_ID,
  version: NATIVE_VERSION,
  marker: `wafer_abi_version_${NATIVE_VERSION}`,
  perRequest: false,
  budgetEntries: NATIVE_BUDGET_ENTRIES,
  detect: detectNative,
  validate: validateNative,
  instantiate: (module, _info, host) => new NativeInstance(module, host)
}

registerAbi(nativeAbi)
