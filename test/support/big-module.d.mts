export interface BigModuleOptions {
  /** About how many bytes the module should have. */
  bytes: number
  /** The ABI marker export; default `wafer_abi_version_1`. */
  marker?: string
  /** Makes modules of the same size distinct. */
  seed?: number
}
export function bigModule (options: BigModuleOptions): Uint8Array
export function distinctCopy (bytes: Uint8Array, tag: string | number): Uint8Array
