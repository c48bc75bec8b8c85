import { waferError } from '../errors.js'
import type { ModuleInfo } from '../runtime/wasm-binary.js'
import { nativeAbi } from './native/index.js'
import type { AbiDescriptor, GuestAbi } from './types.js'

/** ABIs this host speaks, by the version number in `wafer_abi_version_<N>`. */
const NATIVE: ReadonlyMap<number, GuestAbi> = new Map([[2, nativeAbi]])
/** Versions this host spoke once, and what to do about a module built for one. */
const RETIRED: ReadonlyMap<number, string> = new Map([
  [1, 'version 1 (wafer_abi_version_1: JSON documents), which version 2 (host calls) replaced; rebuild the filter with the current @wafer/sdk-assemblyscript, or port it to docs/abi.md']
])
const NATIVE_MARKER = /^wafer_abi_version_(\d+)$/
const PROXY_WASM_MARKER = /^proxy_abi_version_(\d+)_(\d+)_(\d+)$/

export function supportedAbis (): string {
  return [...NATIVE.keys()].map((v) => `wafer_abi_version_${v}`).join(', ')
}

/** Picks the ABI a module declares through its exports (docs/abi.md section 1). */
export function selectAbi (info: ModuleInfo, source: string): GuestAbi {
  const declared: number[] = []
  let proxyWasm: string | undefined
  for (const e of info.exports) {
    const m = NATIVE_MARKER.exec(e.name)
    if (m !== null) declared.push(Number(m[1]))
    const p = PROXY_WASM_MARKER.exec(e.name)
    if (p !== null) proxyWasm = `Proxy-Wasm ABI ${p[1]}.${p[2]}.${p[3]}`
  }
  if (declared.length > 1) {
    throw waferError('WAFER_ERR_ABI_VERSION', [source, `versions ${declared.join(' and ')} at once`, supportedAbis()])
  }
  const version = declared[0]
  if (version === undefined) {
    if (proxyWasm !== undefined) throw waferError('WAFER_ERR_ABI_UNSUPPORTED', [source, proxyWasm])
    throw waferError('WAFER_ERR_ABI_MISSING_VERSION', [source, supportedAbis()])
  }
  const abi = NATIVE.get(version)
  const retired = RETIRED.get(version)
  if (retired !== undefined) throw waferError('WAFER_ERR_ABI_VERSION', [source, retired, supportedAbis()])
  if (abi === undefined) throw waferError('WAFER_ERR_ABI_VERSION', [source, `version ${version} (wafer_abi_version_${version})`, supportedAbis()])
  return abi
}

/** Selects and validates a module's ABI without instantiating it (for `wafer inspect`). */
export function checkAbi (info: ModuleInfo, source: string): AbiDescriptor {
  return selectAbi(info, source).validate(info, source)
}
