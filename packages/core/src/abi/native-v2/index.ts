import type { GuestAbi } from '../types.js'
import { ABI_ID } from '../native/check-module.js'
import { NativeV2Instance } from './instance.js'
import { validateNativeV2 } from './spec.js'

/** The native host-call ABI, version 2 (docs/abi-v2.md). */
export const nativeAbiV2: GuestAbi = {
  id: ABI_ID,
  version: 2,
  validate: validateNativeV2,
  instantiate: (module, _info, host) => new NativeV2Instance(module, host)
}
