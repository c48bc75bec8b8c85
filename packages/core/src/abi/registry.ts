import { waferError } from '../errors.js'
import type { ModuleInfo } from '../wasm/binary.js'
import type { AbiDetector, AbiRefusal, GuestAbi } from './types.js'

/**
 * The ABIs this host runs, asked in the order they registered. Each ABI's `index.ts` registers
 * itself when it is imported (abi/index.ts imports them all).
 */
const registered: GuestAbi[] = []

/**
 * ABIs recognised but not run yet: a module that speaks one is refused with
 * WAFER_ERR_ABI_UNSUPPORTED rather than "declares no ABI". Asked after every registered ABI, so
 * registering the real one makes its entry here dead (then delete it). None at the moment.
 */
const recognised: readonly AbiDetector[] = []

/** Adds `abi` after those registered before it. Returns what removes it again (for tests). */
export function registerAbi (abi: GuestAbi): () => void {
  if (registered.some((a) => a.id === abi.id && a.version === abi.version)) {
    throw waferError('WAFER_ERR_INTERNAL', ['the ABI registry', `${abi.id}/${abi.version} is registered already`])
  }
  registered.push(abi)
  return () => {
    const i = registered.indexOf(abi)
    if (i !== -1) registered.splice(i, 1)
  }
}

/** How modules declare the ABIs this host runs: `wafer_abi_version_2`, for messages. */
export function supportedAbis (): string {
  return registered.map((a) => a.marker).join(', ')
}

/**
 * Picks the ABI a module declares through its exports (docs/abi.md sections 1 and 8): the first
 * registered ABI that runs it. Otherwise the first refusal, registered ABIs before recognised
 * ones, is the error; a module no ABI recognises declares none.
 */
export function selectAbi (info: ModuleInfo, source: string): GuestAbi {
  let refusal: AbiRefusal | undefined
  for (const abi of registered) {
    const d = abi.detect(info)
    if (d === true) return abi
    if (d !== false) refusal ??= d
  }
  for (const detector of recognised) {
    const d = detector.detect(info)
    if (typeof d === 'object') refusal ??= d
  }
  if (refusal === undefined) throw waferError('WAFER_ERR_ABI_MISSING_VERSION', [source, supportedAbis()])
  if (refusal.refused === 'unsupported') throw waferError('WAFER_ERR_ABI_UNSUPPORTED', [source, refusal.declared])
  throw waferError('WAFER_ERR_ABI_VERSION', [source, refusal.declared, supportedAbis()])
}
