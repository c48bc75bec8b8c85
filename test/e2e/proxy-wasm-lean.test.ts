// The suite's lean Proxy-Wasm filter (benchmarks: proxy-wasm-lean) does what the benchmark says
// it does: reads one request header and adds one, through the Fastify plugin.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import Fastify from 'fastify'
import wafer from '@wafer/fastify'
import { fixture, silent } from '../support/index.ts'

test('the lean Proxy-Wasm filter reads x-api-key and adds x-seen-key', async (t) => {
  const fastify = Fastify({ loggerInstance: silent })
  await fastify.register(wafer, { filters: { lean: { module: fixture('proxy-sdk-lean') } }, chain: ['lean'] })
  fastify.get('/*', async (req) => ({ seen: req.headers['x-seen-key'] }))
  t.after(() => fastify.close())
  assert.deepEqual((await fastify.inject({ url: '/api/items', headers: { 'x-api-key': 'bench-key' } })).json(), { seen: 'yes' })
  assert.deepEqual((await fastify.inject({ url: '/api/items' })).json(), { seen: 'no' })
  assert.equal(fastify.wafer.status().filters.find((f: { name: string }) => f.name === 'lean')?.abi.startsWith('proxy-wasm'), true)
})
