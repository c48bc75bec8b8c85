import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv'
import { pointer, show, type ConfigProblem } from './config-error.js'
import { expected } from './describe-schema.js'
import { HOST_VALUES, type HostValue } from './host-values.js'
import { configSchema } from './schema.js'

type Node = Readonly<Record<string, unknown>>

let ajv: Ajv | undefined
const compiled = new WeakMap<Node, ValidateFunction>()

/**
 * One ajv for every schema (the config file's and the options'), compiled once per schema, at
 * load or reload: never per request. `instance` checks the values JSON cannot hold.
 */
function validator (schema: Node): ValidateFunction {
  let validate = compiled.get(schema)
  if (validate === undefined) {
    ajv ??= new Ajv({ allErrors: true, verbose: true, strict: true, allowUnionTypes: true })
      .addKeyword({ keyword: 'instance', schemaType: 'string', errors: false, validate: (kind: HostValue, data: unknown) => HOST_VALUES[kind].test(data) })
      .addKeyword({ keyword: 'expected', schemaType: 'string' })
    validate = ajv.compile(schema)
    compiled.set(schema, validate)
  }
  return validate
}

/** Keywords whose errors only summarise the errors of their subschemas. */
const SUMMARIES = new Set(['if', 'propertyNames'])

/**
 * Checks a value against a schema (by default the config file's) and turns ajv's errors into
 * one problem per offending place: a value that fails several keywords (type, minimum...) is
 * described once, by the outermost schema that rejected it.
 */
export function schemaProblems (value: unknown, schema: Node = configSchema): ConfigProblem[] {
  const validate = validator(schema)
  if (validate(value)) return []
  const problems = new Map<string, ConfigProblem>()
  const outermost = new Map<string, ErrorObject>()
  for (const e of validate.errors ?? []) {
    const parent = e.parentSchema as Node
    if (SUMMARIES.has(e.keyword)) continue
    if (e.propertyName !== undefined) {
      const path = pointer(e.instancePath, e.propertyName)
      add(problems, { path, message: `invalid name: must be ${expected(parent)}, got ${show(e.propertyName)}`, value: e.propertyName })
    } else if (e.keyword === 'additionalProperties') {
      const key = (e.params as { additionalProperty: string }).additionalProperty
      const allowed = Object.keys(parent.properties as Node).join(', ')
      add(problems, { path: pointer(e.instancePath, key), message: `unknown key (allowed: ${allowed})`, value: (e.data as Node)[key] })
    } else if (e.keyword === 'required') {
      const key = (e.params as { missingProperty: string }).missingProperty
      const node = (parent.properties as Record<string, Node>)[key] as Node
      add(problems, { path: pointer(e.instancePath, key), message: `required key is missing: must be ${expected(node)}`, value: undefined })
    } else {
      const seen = outermost.get(e.instancePath)
      if (seen === undefined) problems.set(e.instancePath, { path: e.instancePath, message: '', value: e.data })
      if (seen === undefined || e.schemaPath.length < seen.schemaPath.length) outermost.set(e.instancePath, e)
    }
  }
  for (const [path, e] of outermost) (problems.get(path) as ConfigProblem).message = valueMessage(e)
  return [...problems.values()]
}

function valueMessage (e: ErrorObject): string {
  if (e.keyword === 'uniqueItems') {
    const { i, j } = e.params as { i: number, j: number }
    return `must not repeat a value (items ${Math.min(i, j)} and ${Math.max(i, j)} are equal), got ${show(e.data)}`
  }
  return `must be ${expected(e.parentSchema as Node)}, got ${show(e.data)}`
}

function add (problems: Map<string, ConfigProblem>, problem: ConfigProblem): void {
  if (!problems.has(problem.path)) problems.set(problem.path, problem)
}
