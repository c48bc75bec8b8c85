import { createHash } from 'node:crypto'
import { readFile } from 'node:fs/promises'
import { checkAbi, formatSignature, readModuleInfo, supportedAbis, WaferError } from '@wafer/core'

export interface ModuleReport {
  file: string
  size: number
  sha256: string
  /** e.g. `wafer-native/1`, or undefined with `abiError` when the module declares no usable ABI. */
  abi: string | undefined
  abiError: string | undefined
  exports: Array<{ name: string, kind: string, signature?: string }>
  imports: Array<{ module: string, name: string, kind: string, signature?: string }>
}

/** What `wafer inspect` prints: identity, ABI, and every import and export with its signature. */
export async function inspectModule (file: string): Promise<ModuleReport> {
  let bytes: Buffer
  try {
    bytes = await readFile(file)
  } catch (err) {
    throw new WaferError('WAFER_ERR_MODULE_READ', [file, (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (err as Error).message])
  }
  try {
    await WebAssembly.compile(bytes as Uint8Array<ArrayBuffer>)
  } catch (err) {
    throw new WaferError('WAFER_ERR_MODULE_INVALID', [file, (err as Error).message])
  }
  const info = readModuleInfo(bytes)
  let abi: { name: string | undefined, error: string | undefined }
  try {
    const d = checkAbi(info, file)
    abi = { name: `${d.abi}/${d.version} (${[d.request ? 'request' : '', d.response ? 'response' : ''].filter(Boolean).join(' and ')} phase)`, error: undefined }
  } catch (err) {
    abi = { name: undefined, error: `${(err as WaferError).code ?? 'ERROR'}: ${(err as Error).message}` }
  }
  return {
    file,
    size: bytes.length,
    sha256: createHash('sha256').update(bytes).digest('hex'),
    abi: abi.name,
    abiError: abi.error,
    exports: info.exports.map((e) => e.kind === 'function' ? { name: e.name, kind: e.kind, signature: formatSignature(e.type) } : { name: e.name, kind: e.kind }),
    imports: info.imports.map((i) => i.kind === 'function' ? { module: i.module, name: i.name, kind: i.kind, signature: formatSignature(i.type) } : { module: i.module, name: i.name, kind: i.kind })
  }
}

export function formatReport (r: ModuleReport): string {
  const width = Math.max(8, ...r.exports.map((e) => e.name.length), ...r.imports.map((i) => i.module.length + i.name.length + 1)) + 2
  const lines = [
    `file      ${r.file}`,
    `size      ${r.size.toLocaleString('en-US')} bytes`,
    `sha256    ${r.sha256}`,
    `abi       ${r.abi ?? `none usable: ${r.abiError ?? 'unknown'} (this host supports ${supportedAbis()})`}`,
    '',
    `exports (${r.exports.length})`,
    ...r.exports.map((e) => `  ${e.name.padEnd(width)}${e.signature ?? e.kind}`),
    '',
    `imports (${r.imports.length})`,
    ...r.imports.map((i) => `  ${`${i.module}.${i.name}`.padEnd(width)}${i.signature ?? i.kind}`)
  ]
  return lines.join('\n')
}
