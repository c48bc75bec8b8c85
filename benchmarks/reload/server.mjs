// The server side of the reload benchmark: a Fastify app whose chain comes from a watched
// config file. Run by reload-under-load.mjs, pinned to its own core.
import Fastify from 'fastify'
import wafer from '@wafer/fastify'

const app = Fastify({ logger: { level: 'warn' } })
await app.register(wafer, { config: process.argv[2], watch: true, chain: 'main' })
app.get('/echo', async () => 'ok')
const url = await app.listen({ port: 0, host: '127.0.0.1' })
process.stdout.write(`${url}\n`)
process.on('SIGTERM', () => { app.close().then(() => process.exit(0)) })
