// What the gateway regression tests share: an upstream that records exactly what reaches it,
// a raw-socket client (fetch and undici normalise hostile request targets), and a gateway
// with a real pino logger whose JSON lines the test reads.
import { createServer, type IncomingHttpHeaders, type OutgoingHttpHeaders } from 'node:http'
import { connect, type AddressInfo } from 'node:net'
import type { TestContext } from 'node:test'
import { Gateway } from '../../packages/gateway/src/index.ts'
import { captureLogger, exampleFilter, type LogLine } from './index.ts'

/** One request as the upstream received it. */
export interface Received {
  /** The request line: method, target, version. */
  line: string
  target: string
  headers: IncomingHttpHeaders
  body: Buffer
}

export interface Upstream {
  url: string
  received: Received[]
}

/** An upstream that records every request and answers 200 with `headers` and a short body. */
export async function recordingUpstream (t: TestContext, headers: OutgoingHttpHeaders = {}): Promise<Upstream> {
  const received: Received[] = []
  const server = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      received.push({ line: `${req.method ?? ''} ${req.url ?? ''} HTTP/${req.httpVersion}`, target: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks) })
      res.writeHead(200, { 'content-type': 'text/plain', ...headers })
      res.end('upstream')
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  t.after(() => { server.closeAllConnections(); server.close() })
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, received }
}

export interface RawResponse {
  status: number
  /** Interim (1xx) status lines, in order. */
  interim: string[]
  /** Lower-case name -> values, as sent. */
  headers: Record<string, string[]>
  body: Buffer
}

/**
 * Sends `head` (the request line and headers, CRLF-terminated, one byte per character) and `body` over a fresh socket
 * and reads one response; the request should say `Connection: close`. With `awaitContinue`
 * the body is sent only after the server's `100 Continue`, as a client that sent
 * `Expect: 100-continue` does.
 */
export function rawRequest (port: number, head: string, body: Buffer | string = '', options: { awaitContinue?: boolean } = {}): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1')
    const chunks: Buffer[] = []
    let bodySent = options.awaitContinue !== true
    socket.on('connect', () => {
      socket.write(Buffer.from(head, 'latin1'))
      if (bodySent) socket.write(body)
    })
    socket.on('data', (c: Buffer) => {
      chunks.push(c)
      if (!bodySent && Buffer.concat(chunks).toString('latin1').startsWith('HTTP/1.1 100 ')) {
        bodySent = true
        socket.write(body)
      }
    })
    socket.on('error', reject)
    socket.on('close', () => {
      try {
        resolve(parseResponse(Buffer.concat(chunks)))
      } catch (err) {
        reject(err)
      }
    })
  })
}

function parseResponse (raw: Buffer): RawResponse {
  const interim: string[] = []
  let rest = raw
  for (;;) {
    const end = rest.indexOf('\r\n\r\n')
    if (end === -1) throw new Error(`no complete response head in ${JSON.stringify(raw.toString('latin1'))}`)
    const lines = rest.subarray(0, end).toString('latin1').split('\r\n')
    const statusLine = lines[0] as string
    const status = Number(statusLine.split(' ')[1])
    rest = rest.subarray(end + 4)
    if (status >= 100 && status < 200) {
      interim.push(statusLine)
      continue
    }
    const headers: Record<string, string[]> = {}
    for (const line of lines.slice(1)) {
      const colon = line.indexOf(':')
      const name = line.slice(0, colon).toLowerCase()
      ;(headers[name] ??= []).push(line.slice(colon + 1).trim())
    }
    const body = headers['transfer-encoding']?.[0] === 'chunked' ? dechunk(rest) : rest
    return { status, interim, headers, body }
  }
}

function dechunk (data: Buffer): Buffer {
  const out: Buffer[] = []
  let at = 0
  for (;;) {
    const lineEnd = data.indexOf('\r\n', at)
    const size = parseInt(data.subarray(at, lineEnd).toString('latin1'), 16)
    if (size === 0 || Number.isNaN(size)) return Buffer.concat(out)
    out.push(data.subarray(lineEnd + 2, lineEnd + 2 + size))
    at = lineEnd + 2 + size + 2
  }
}

/** The example filters, as the example gateway configures them (examples/gateway). */
export function exampleFilters (rewrite: { from: string, to: string }): Record<string, object> {
  return {
    'request-id': { module: exampleFilter('request-id') },
    auth: { module: exampleFilter('auth'), config: { mode: 'api-key', header: 'x-api-key', keys: ['k1'], subjects: ['alice'] } },
    rewrite: { module: exampleFilter('rewrite'), config: { prefix: rewrite, setHeaders: { 'x-gateway': 'wafer' } } },
    'rate-limit': { module: exampleFilter('rate-limit'), config: { limit: 1000, windowMs: 60000, key: 'header:x-auth-subject' } }
  }
}

export interface RunningGateway {
  port: number
  adminUrl: string
  lines: LogLine[]
  gateway: Gateway
}

/** A gateway from `config` (the admin listener on a free port), logging JSON lines to `lines`. */
export async function startGateway (t: TestContext, config: Record<string, unknown>): Promise<RunningGateway> {
  const { logger, lines } = captureLogger('info')
  const gateway = await Gateway.create({ config: { admin: { port: 0 }, ...config } as never, port: 0, logger })
  t.after(() => gateway.close())
  const { url, adminUrl } = await gateway.listen()
  return { port: Number(new URL(url).port), adminUrl: adminUrl as string, lines, gateway }
}
