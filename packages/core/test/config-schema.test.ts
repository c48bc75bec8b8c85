import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { test } from 'node:test'
import { Ajv } from 'ajv'
import { configSchema, resolveConfig } from '../src/index.ts'
import { root } from '../../../test/support/index.ts'

type Node = Record<string, unknown>

const published = JSON.parse(readFileSync(join(root, 'docs/config.schema.json'), 'utf8')) as Node

/** Every schema node that describes a field, with its path in the schema. */
function fields (node: Node, path = '#'): Array<[string, Node]> {
  const out: Array<[string, Node]> = [[path, node]]
  const sub = (key: string, n: unknown): void => { if (typeof n === 'object' && n !== null) out.push(...fields(n as Node, `${path}/${key}`)) }
  for (const [k, v] of Object.entries((node.properties ?? {}) as Node)) sub(`properties/${k}`, v)
  for (const k of ['items', 'additionalProperties', 'propertyNames', 'then', 'else']) sub(k, node[k])
  return out
}

test('docs/config.schema.json is the schema the code validates with (run scripts/config-schema.mjs)', () => {
  assert.deepEqual(published, JSON.parse(JSON.stringify(configSchema)))
})

test('every object in the schema is closed and every field is described', () => {
  const all = fields(configSchema as Node)
  assert.ok(all.length > 60, `walked ${all.length} nodes`)
  for (const [path, node] of all) {
    assert.equal(typeof node.description, 'string', `${path} has a description`)
    if (node.properties !== undefined) assert.equal(node.additionalProperties, false, `${path} rejects unknown keys`)
  }
})

test('the published schema compiles in strict mode and accepts the example config', () => {
  const validate = new Ajv({ strict: true, allowUnionTypes: true }).compile(published)
  const example = JSON.parse(readFileSync(join(root, 'test/fixtures/configs/gateway.json'), 'utf8')) as unknown
  assert.ok(validate(example), JSON.stringify(validate.errors))
  assert.equal(validate({ filters: {}, server: { prot: 1 } }), false)
})

test('the defaults the schema documents are the ones applied', () => {
  const r = resolveConfig({ filters: { f: { module: 'f.wasm' } }, routes: [{ match: { path: '/' }, respond: {} }, { match: { path: '/u' }, upstream: 'http://h' }] }, '<object>', '/')
  const p = (configSchema as Node).properties as Record<string, Node>
  const def = (node: Node | undefined, key: string): unknown => ((node?.properties as Record<string, Node>)[key] as Node).default
  for (const key of ['host', 'port', 'bodyLimit', 'headerLimit', 'shutdownTimeoutMs'] as const) assert.equal(r.server[key], def(p.server, key), `server.${key}`)
  assert.equal(r.server.logLevel, def((p.server?.properties as Record<string, Node>).logger, 'level'))
  for (const key of ['enabled', 'host', 'port'] as const) assert.equal(r.admin[key], def(p.admin, key), `admin.${key}`)
  const filter = p.filters?.additionalProperties as Node
  assert.equal(r.filters.f?.failurePolicy, def(filter, 'failurePolicy'))
  assert.deepEqual(r.filters.f?.config, def(filter, 'config'))
  const route = (p.routes?.items as Node)
  assert.equal(r.routes[0]?.match.type, def(((route.properties as Record<string, Node>).match), 'type'))
  assert.equal(r.routes[1]?.upstream?.timeoutMs, def(route, 'timeoutMs'))
  const respond = (route.properties as Record<string, Node>).respond
  assert.deepEqual(r.routes[0]?.respond, { status: def(respond, 'status'), headers: def(respond, 'headers'), body: def(respond, 'body') })
})
