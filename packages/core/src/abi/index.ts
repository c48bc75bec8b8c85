import type { ModuleInfo } from '../wasm/binary.js'
import { selectAbi } from './registry.js'
import type { AbiDescriptor } from './types.js'
// Each ABI registers itself when imported; the import order is the order they are asked in.
import './native/index.js'
import './proxy-wasm/index.js'

export { registerAbi, selectAbi, supportedAbis } from './registry.js'

/** Selects and validates a module's ABI without instantiating it (for `wafer inspect`). */
export function checkAbi (info: ModuleInfo, source: string): AbiDescriptor {
  return selectAbi(info, source).validate(info, source)
}
