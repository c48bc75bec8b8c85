import type { GuestAbi } from '../types.js'
import { ABI_ID } from './check-module.js'
import { NativeInstance } from './instance.js'
import { validateNative } from './spec.js'

/** The native host-call ABI, version 2 (docs/abi.md). */
export const nativeAbi: GuestAbi = {
  id: ABI_ID,
  version: 2,
  validate: validateNative,
  instantiate: (module, _info, host) => new NativeInstance(module, host)
}
