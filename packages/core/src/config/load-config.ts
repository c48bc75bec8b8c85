import { readFile } from 'node:fs/promises'
import { dirname, resolve } from 'node:path'
import { describe, waferError } from '../errors.js'
import { parseConfigText } from './parse-config.js'
import { resolveConfig } from './resolve-config.js'
import type { ResolvedConfig } from './types.js'

export interface LoadConfigOptions {
  /** Directory a relative config path (or, for an object, relative module paths) is resolved against. Default `process.cwd()`. */
  cwd?: string
}

const READ_REASONS: Record<string, string> = {
  ENOENT: 'no such file',
  EACCES: 'permission denied',
  EISDIR: 'it is a directory, not a file'
}

/**
 * Reads, parses, validates and resolves a gateway config file (YAML or JSON; see
 * docs/config.md), or an already-parsed config object. Relative module paths resolve against
 * the file's directory (for an object, against `cwd`).
 */
export async function loadConfig (source: string | object, options: LoadConfigOptions = {}): Promise<ResolvedConfig> {
  if (typeof options !== 'object' || options === null) throw waferError('WAFER_ERR_OPTIONS_INVALID', ['loadConfig: options must be an object'])
  for (const key of Object.keys(options)) {
    if (key !== 'cwd') throw waferError('WAFER_ERR_OPTIONS_INVALID', [`loadConfig: unknown option "${key}"; known options: cwd`])
  }
  if (options.cwd !== undefined && typeof options.cwd !== 'string') {
    throw waferError('WAFER_ERR_OPTIONS_INVALID', [`loadConfig: "cwd" must be a directory path, got ${JSON.stringify(options.cwd)}`])
  }
  const cwd = resolve(options.cwd ?? process.cwd())
  if (typeof source !== 'string') return resolveConfig(source, '<object>', cwd)
  const file = resolve(cwd, source)
  let text: string
  try {
    text = await readFile(file, 'utf8')
  } catch (err) {
    const reason = READ_REASONS[(err as NodeJS.ErrnoException).code ?? ''] ?? describe(err)
    throw Object.assign(waferError('WAFER_ERR_CONFIG_READ', [file, reason], { cause: err }), { file })
  }
  return resolveConfig(parseConfigText(text, file), file, dirname(file))
}
