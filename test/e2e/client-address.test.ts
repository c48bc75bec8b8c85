// The client's address a filter reads (field 3) is the framework's own, read only when a filter
// asks: Fastify's request.ip and Express's req.ip, each with its trusted-proxy setting, over a
// real socket.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import Fastify from 'fastify'
import express from 'express'
import wafer from '@wafer/fastify'
import { createWaferMiddleware } from '@wafer/express'
import { fixture, listenLocal, silent } from '../support/index.ts'

const filters = { addr: { module: fixture('client-address') } }

async function seen (url: string, headers: Record<string, string> = {}): Promise<unknown> {
  const res = await fetch(`${url}/where`, { headers })
  assert.equal(res.status, 200)
  return ((await res.json()) as { seen: unknown }).seen
}

for (const trustProxy of [false, true]) {
  test(`Fastify (trustProxy: ${trustProxy}): the filter sees request.ip`, async (t) => {
    const app = Fastify({ loggerInstance: silent, trustProxy })
    await app.register(wafer, { filters, chain: ['addr'] })
    app.get('/where', async (req) => ({ seen: req.headers['x-client-address'], ip: req.ip }))
    const url = await app.listen({ port: 0, host: '127.0.0.1' })
    t.after(() => app.close())
    assert.equal(await seen(url), '127.0.0.1')
    assert.equal(await seen(url, { 'x-forwarded-for': '203.0.113.7' }), trustProxy ? '203.0.113.7' : '127.0.0.1')
  })

  test(`Express (trust proxy: ${trustProxy}): the filter sees req.ip`, async (t) => {
    const app = express()
    app.set('trust proxy', trustProxy)
    const mw = await createWaferMiddleware({ logger: silent, filters, chain: ['addr'] })
    app.use(mw)
    app.get('/where', (req, res) => { res.json({ seen: req.headers['x-client-address'] }) })
    const server = await listenLocal(app, () => mw.close())
    t.after(() => server.close())
    assert.equal(await seen(server.url), '127.0.0.1')
    assert.equal(await seen(server.url, { 'x-forwarded-for': '203.0.113.7' }), trustProxy ? '203.0.113.7' : '127.0.0.1')
  })
}
