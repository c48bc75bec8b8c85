// Starts one scenario's server (argv[2]) and prints its URL; the suite pins it to a core.
// argv[3]: the upstream URL for gateway scenarios. A scenario named "upstream" is the echo service.
import { createServer } from 'node:http'
import { scenarios } from './scenarios.mjs'

const name = process.argv[2]
if (name === 'upstream') {
  const server = createServer((req, res) => {
    req.resume()
    req.on('end', () => {
      res.writeHead(200, { 'content-type': 'application/json' })
      res.end('{"items":[{"id":1,"name":"a"},{"id":2,"name":"b"}]}')
    })
  })
  server.listen(0, '127.0.0.1', () => process.stdout.write(`http://127.0.0.1:${server.address().port}\n`))
} else {
  const build = scenarios[name]
  if (build === undefined) throw new Error(`unknown scenario ${name}`)
  const app = await build(process.argv[3])
  const url = await app.listen({ port: 0, host: '127.0.0.1' })
  process.stdout.write(`${url}\n`)
}
process.on('SIGTERM', () => process.exit(0))
