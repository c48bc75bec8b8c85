import { extname } from 'node:path'
import { LineCounter, parseDocument } from 'yaml'
import { describe } from '../errors.js'
import { parseError } from './config-error.js'
import { jsonSyntaxError, positionOf } from './json-syntax.js'

/**
 * Parses a config file's text: JSON for `.json`, YAML for `.yaml`/`.yml`, and for any other
 * extension JSON if it is valid JSON, YAML otherwise. Syntax errors are WAFER_ERR_CONFIG_PARSE
 * naming the file, line and column.
 */
export function parseConfigText (text: string, file: string): unknown {
  const body = text.startsWith('\uFEFF') ? text.slice(1) : text
  const ext = extname(file).toLowerCase()
  if (ext === '.yaml' || ext === '.yml') return parseYaml(body, file)
  if (ext === '.json' || jsonSyntaxError(body) === undefined) return parseJson(body, file)
  return parseYaml(body, file)
}

function parseJson (text: string, file: string): unknown {
  const error = jsonSyntaxError(text)
  if (error !== undefined) throw parseError(file, error.reason, positionOf(text, error.offset))
  try {
    return JSON.parse(text)
  } catch (err) {
    throw parseError(file, describe(err), undefined, err)
  }
}

function parseYaml (text: string, file: string): unknown {
  const lineCounter = new LineCounter()
  const doc = parseDocument(text, { lineCounter, prettyErrors: false })
  const first = doc.errors[0]
  if (first !== undefined) {
    const { line, col } = lineCounter.linePos(first.pos[0])
    const more = doc.errors.length > 1 ? ` (and ${doc.errors.length - 1} more)` : ''
    throw parseError(file, `${first.message}${more}`, { line, column: col }, first)
  }
  try {
    return doc.toJS({ maxAliasCount: 100 })
  } catch (err) {
    throw parseError(file, describe(err), undefined, err)
  }
}
