import type { GuestAbi } from '../types.js'
import { NativeInstance } from './instance.js'
import { ABI_ID, validateNative } from './spec.js'

/** The native JSON ABI, version 1 (docs/abi.md). */
export const nativeAbiV1: GuestAbi = {
  id: ABI_ID,
  version: 1,
  validate: validateNative,
  instantiate: (module, _info, host) => new NativeInstance(module, host)
}
