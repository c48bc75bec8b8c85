import { createServer } from 'node:http'

/** A stand-in for your service: answers every request with what it received, as JSON. */
export function startEcho (port = 3101, host = '127.0.0.1') {
  const server = createServer((req, res) => {
    const chunks = []
    req.on('data', (c) => chunks.push(c))
    req.on('end', () => {
      const body = JSON.stringify({ method: req.method, path: req.url, headers: req.headers, body: Buffer.concat(chunks).toString('utf8') })
      res.writeHead(200, { 'content-type': 'application/json', 'x-upstream': 'echo' })
      res.end(body)
    })
  })
  return new Promise((resolve, reject) => {
    server.once('error', reject)
    server.listen(port, host, () => resolve({ server, url: `http://${host}:${server.address().port}` }))
  })
}
