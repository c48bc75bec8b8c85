import { NAME_PATTERN } from './defaults.js'
import { HOST_VALUES, type HostValue } from './host-values.js'
import { BIND_PATTERN, ENV_NAME_PATTERN, HEADER_NAME_PATTERN, HEADER_VALUE_PATTERN, HOST_PATTERN, PATH_PATTERN, URL_PATTERN } from './schema.js'

type Node = Readonly<Record<string, unknown>>

/** What a pattern asks for, in words (a regular expression is no help in an error message). */
const PATTERNS: Record<string, string> = {
  [NAME_PATTERN]: 'a name (1-64 letters, digits, "_", "." or "-", starting with a letter or digit)',
  [PATH_PATTERN]: 'a path starting with "/", without "?", "#" or spaces',
  [HOST_PATTERN]: 'a host name or [IPv6 address], optionally with :port',
  [HEADER_NAME_PATTERN]: 'an HTTP header name (letters, digits and !#$%&\'*+.^_`|~-)',
  [HEADER_VALUE_PATTERN]: 'a field value: visible ASCII, space, tab or U+0080-U+00FF (no control characters)',
  [URL_PATTERN]: 'an http:// or https:// URL',
  [BIND_PATTERN]: 'an address without spaces',
  [ENV_NAME_PATTERN]: 'an environment variable name (letters, digits and "_", not starting with a digit)'
}

const list = (values: readonly unknown[]): string => values.map((v) => JSON.stringify(v)).join(', ')

/** Describes what a schema node accepts, e.g. "an integer >= 1", for "must be <this>". */
export function expected (node: Node): string {
  if (typeof node.expected === 'string') return node.expected
  if (typeof node.instance === 'string') return HOST_VALUES[node.instance as HostValue].expected
  const alternatives = node.anyOf ?? node.oneOf
  if (node.type === undefined && Array.isArray(alternatives)) return alternatives.map((n) => expected(n as Node)).join(' or ')
  if (isNode(node.if) && isNode(node.then) && isNode(node.else)) return `${expected(node.then)} or ${expected(node.else)}`
  if ('const' in node) return JSON.stringify(node.const)
  if (Array.isArray(node.enum)) return `one of ${list(node.enum)}`
  const types = Array.isArray(node.type) ? node.type as string[] : [node.type as string | undefined]
  return types.map((t) => describeType(t, node)).join(' or ')
}

function describeType (type: string | undefined, node: Node): string {
  switch (type) {
    case 'integer': {
      const { minimum: min, maximum: max } = node as { minimum?: number, maximum?: number }
      if (min !== undefined && max !== undefined) return `an integer from ${min} to ${max}`
      return min === undefined ? 'an integer' : `an integer >= ${min}`
    }
    case 'string':
      if (typeof node.pattern === 'string') return PATTERNS[node.pattern] ?? `a string matching ${node.pattern}`
      return node.minLength === 1 ? 'a non-empty string' : 'a string'
    case 'boolean': return 'true or false'
    case 'array': {
      const items = node.items
      const of = isNode(items) && Array.isArray(items.enum) ? ` of distinct values from ${list(items.enum)}` : ''
      return `${node.minItems === 1 ? 'a non-empty array' : 'an array'}${of}`
    }
    case 'object':
      return isNode(node.properties) ? `an object with keys ${Object.keys(node.properties).join(', ')}` : 'an object'
    default: return 'any JSON value'
  }
}

function isNode (value: unknown): value is Node {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}
