import { request as httpRequest, type ClientRequest, type IncomingMessage, type OutgoingHttpHeaders } from 'node:http'
import { request as httpsRequest } from 'node:https'
import { fieldValueProblem, isToken } from '../../http/field-syntax.js'
import type { Pair } from './pairs.js'

/**
 * `proxy_http_call` (docs/proxy-wasm.md, "HTTP calls"): one request to an upstream named in the
 * filter's `proxyWasm.upstreams`, with Node's own HTTP client. The answer, or the reason there
 * is none, comes back as a `CalloutResult`; the promise never rejects.
 */

/** Connection-level headers: the HTTP client frames the request itself, so a guest's are dropped. */
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'te', 'trailer', 'upgrade', 'content-length', 'host'])

/** Most calls one instance may have outstanding at once; more get INTERNAL_FAILURE. */
export const MAX_OUTSTANDING_CALLS = 32

/** What an HTTP call came back with: the response (`:status` first), or why there is none. */
export type CalloutResult =
  | { ok: true, headers: Pair[], body: Buffer }
  | { ok: false, reason: string }

/** What the guest asked for, checked: the upstream's name, the target and the request's own headers. */
export interface CalloutRequest {
  upstream: string
  url: URL
  method: string
  headers: OutgoingHttpHeaders
}

export interface Callout {
  readonly result: Promise<CalloutResult>
  /** Aborts the call; its result then says it was cancelled. */
  cancel: () => void
}

/**
 * Checks a call's headers as Envoy takes them: `:method`, `:path` and `:authority` are required
 * (`:authority` becomes `Host`), other pseudo-headers and connection-level headers (framing,
 * `Host`, `Content-Length`) are dropped, names must be tokens and values field values. Returns
 * the request, or what is wrong with it.
 */
export function calloutRequest (upstream: string, base: URL, pairs: readonly Pair[]): CalloutRequest | string {
  let method: string | undefined
  let path: string | undefined
  let authority: string | undefined
  const headers: OutgoingHttpHeaders = {}
  for (const [n, value] of pairs) {
    const name = n.toLowerCase()
    if (name === ':method') method = value
    else if (name === ':path') path = value
    else if (name === ':authority') authority = value
    else if (name.startsWith(':') || HOP_BY_HOP.has(name)) continue
    else if (!isToken(name)) return `header name ${JSON.stringify(n)} is not an HTTP token`
    else if (fieldValueProblem(value) !== undefined) return `the value of ${name} is not a valid field value`
    else {
      const had = headers[name]
      headers[name] = had === undefined ? value : Array.isArray(had) ? [...had, value] : [String(had), value]
    }
  }
  if (method === undefined || !isToken(method)) return method === undefined ? 'the :method pseudo-header is missing' : `:method ${JSON.stringify(method)} is not a method`
  if (path === undefined || !path.startsWith('/')) return path === undefined ? 'the :path pseudo-header is missing' : `:path ${JSON.stringify(path)} does not start with "/"`
  if (authority === undefined || authority === '' || fieldValueProblem(authority) !== undefined) return 'the :authority pseudo-header is missing or empty'
  headers.host = authority
  const prefix = base.pathname.endsWith('/') ? base.pathname.slice(0, -1) : base.pathname
  let url: URL
  try {
    url = new URL(prefix + path, base.origin)
  } catch {
    return `:path ${JSON.stringify(path)} is not a request target`
  }
  return { upstream, url, method, headers }
}

/**
 * Sends the call. `timeoutMs` bounds the whole exchange, `maxBytes` the response body: a
 * longer body fails the call. Node's HTTP client lower-cases response header names and keeps
 * repeated ones as one pair per value.
 */
export function sendCallout (req: CalloutRequest, body: Buffer, timeoutMs: number, maxBytes: number): Callout {
  let settle: (r: CalloutResult) => void = () => {}
  const result = new Promise<CalloutResult>((resolve) => { settle = resolve })
  let outgoing: ClientRequest | undefined
  let done = false
  const finish = (r: CalloutResult): void => {
    if (done) return
    done = true
    clearTimeout(timer)
    settle(r)
    if (!r.ok) outgoing?.destroy()
  }
  const timer = setTimeout(() => { finish({ ok: false, reason: `no response within ${timeoutMs} ms (timeout)` }) }, timeoutMs)
  timer.unref()
  const send = req.url.protocol === 'https:' ? httpsRequest : httpRequest
  try {
    outgoing = send(req.url, { method: req.method, headers: { ...req.headers, 'content-length': body.length } }, (res: IncomingMessage) => {
      const chunks: Buffer[] = []
      let size = 0
      res.on('data', (chunk: Buffer) => {
        size += chunk.length
        if (size > maxBytes) finish({ ok: false, reason: `its response body is over ${maxBytes} bytes (limits.maxOutputBytes)` })
        else chunks.push(chunk)
      })
      res.on('end', () => {
        const headers: Pair[] = [[':status', String(res.statusCode ?? 0)]]
        const raw = res.rawHeaders
        for (let i = 0; i + 1 < raw.length; i += 2) headers.push([(raw[i] as string).toLowerCase(), raw[i + 1] as string])
        finish({ ok: true, headers, body: Buffer.concat(chunks, size) })
      })
      res.on('error', (err) => { finish({ ok: false, reason: err.message }) })
    })
    outgoing.on('error', (err) => { finish({ ok: false, reason: err.message }) })
    outgoing.end(body)
  } catch (err) {
    // What the client refuses before sending (it checks what calloutRequest already checked):
    // a failed call, never a throw into the guest.
    finish({ ok: false, reason: err instanceof Error ? err.message : String(err) })
  }
  return { result, cancel: () => { finish({ ok: false, reason: 'cancelled' }) } }
}

/** An HTTP call on its way, and how to cancel it. */
export interface PendingCall {
  /** `"name" (origin)`, for the log line of a failed call. */
  readonly upstream: string
  readonly callout: Callout
}

/**
 * The HTTP calls one instance has outstanding, by token (at most MAX_OUTSTANDING_CALLS). They
 * belong to its root context, as in the cpp-host: they outlive the request that made them and
 * end with the instance. The instance takes each answer off with `take` before it calls the
 * guest back.
 */
export class Callouts {
  readonly #pending = new Map<number, PendingCall>()
  #next = 1

  get size (): number {
    return this.#pending.size
  }

  /** Sends the call; its token, or undefined when too many are outstanding. `answered` gets the token and the result. */
  start (request: CalloutRequest, body: Buffer, timeoutMs: number, maxBytes: number,
    answered: (token: number, result: CalloutResult) => void): number | undefined {
    if (this.#pending.size >= MAX_OUTSTANDING_CALLS) return undefined
    const token = this.#next
    this.#next = token >= 0x7fffffff ? 1 : token + 1
    const callout = sendCallout(request, body, timeoutMs, maxBytes)
    this.#pending.set(token, { upstream: `"${request.upstream}" (${request.url.origin})`, callout })
    void callout.result.then((r) => { answered(token, r) })
    return token
  }

  /** The call, taken off the table; undefined when it was cancelled. */
  take (token: number): PendingCall | undefined {
    const pending = this.#pending.get(token)
    if (pending !== undefined) this.#pending.delete(token)
    return pending
  }

  cancelAll (): void {
    for (const pending of this.#pending.values()) pending.callout.cancel()
    this.#pending.clear()
  }
}
