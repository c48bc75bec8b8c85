import { createHash } from 'node:crypto'
import { readFile } from 'node:fs/promises'
import { checkAbi, describeProxyWasm, formatSignature, readModuleInfo, supportedAbis, WaferError, type ProxyWasmDescription } from '@wafer/core'

export interface ModuleReport {
  file: string
  size: number
  sha256: string
  /** e.g. `wafer-native/1`, or undefined with `abiError` when the module declares no usable ABI. */
  abi: string | undefined
  abiError: string | undefined
  exports: Array<{ name: string, kind: string, signature?: string }>
  imports: Array<{ module: string, name: string, kind: string, signature?: string }>
  /**
   * A Proxy-Wasm module's version and how Wafer answers each import (supported, partial, not
   * supported, or unknown: refused at load), also when the ABI check refused the module.
   */
  proxyWasm?: ProxyWasmDescription
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
  const proxyWasm = describeProxyWasm(info)
  return {
    file,
    size: bytes.length,
    sha256: createHash('sha256').update(bytes).digest('hex'),
    abi: abi.name,
    abiError: abi.error,
    exports: info.exports.map((e) => e.kind === 'function' ? { name: e.name, kind: e.kind, signature: formatSignature(e.type) } : { name: e.name, kind: e.kind }),
    imports: info.imports.map((i) => i.kind === 'function' ? { module: i.module, name: i.name, kind: i.kind, signature: formatSignature(i.type) } : { module: i.module, name: i.name, kind: i.kind }),
    ...(proxyWasm === undefined ? {} : { proxyWasm })
  }
}

/** The support column of a Proxy-Wasm import: blank when supported, what Wafer does otherwise. */
function supportNote (s: ProxyWasmDescription['imports'][number]): string {
  switch (s.support) {
    case 'supported': return ''
    case 'partial': return '  ! partial (docs/proxy-wasm.md)'
    case 'not supported': return `  ! not supported${s.answer === undefined ? '' : `: answers ${s.answer}`}`
    case 'bad signature': return '  ! refused: the host provides it with another signature'
    default: return '  ! unknown: the host does not provide it; the module is refused'
  }
}

/** The Proxy-Wasm summary line: version, how it was recognised, and the imports by support level. */
function proxySummary (p: ProxyWasmDescription): string {
  const counts = new Map<string, number>()
  for (const i of p.imports) counts.set(i.support, (counts.get(i.support) ?? 0) + 1)
  const levels = ['supported', 'partial', 'not supported', 'bad signature', 'unknown'].filter((l) => counts.has(l)).map((l) => `${counts.get(l) ?? 0} ${l}`)
  const how = p.marked ? `proxy_abi_version_${p.version.replaceAll('.', '_')}` : 'no version marker: recognised by its 0.1.0 signatures'
  return `proxy-wasm ${p.version} (${how}); imports: ${levels.join(', ') || 'none'}`
}

export function formatReport (r: ModuleReport): string {
  const width = Math.max(8, ...r.exports.map((e) => e.name.length), ...r.imports.map((i) => i.module.length + i.name.length + 1)) + 2
  const lines = [
    `file      ${r.file}`,
    `size      ${r.size.toLocaleString('en-US')} bytes`,
    `sha256    ${r.sha256}`,
    `abi       ${r.abi ?? `none usable: ${r.abiError ?? 'unknown'} (this host supports ${supportedAbis()})`}`,
    ...(r.proxyWasm === undefined ? [] : [`proxy     ${proxySummary(r.proxyWasm)}`]),
    '',
    `exports (${r.exports.length})`,
    ...r.exports.map((e) => `  ${e.name.padEnd(width)}${e.signature ?? e.kind}`),
    '',
    `imports (${r.imports.length})`,
    ...r.imports.map((i, n) => {
      const support = r.proxyWasm?.imports[n]
      return `  ${`${i.module}.${i.name}`.padEnd(width)}${i.signature ?? i.kind}${support === undefined ? '' : supportNote(support)}`
    })
  ]
  return lines.join('\n')
}
