import type { ResponseHeaders, ResponseHeaderValue, ResponseState } from './exchange.js'

/**
 * How the response phase reaches a framework's reply, one header at a time. One object per
 * adapter, shared by every request: the reply at hand is passed in, so a request costs no
 * closure here.
 */
export interface ReplyAccess<R> {
  header (reply: R, name: string): ResponseHeaderValue | undefined
  /** Every header, as a fresh object the caller may keep. */
  headers (reply: R): ResponseHeaders
  setHeader (reply: R, name: string, value: ResponseHeaderValue): void
  removeHeader (reply: R, name: string): void
  setStatus (reply: R, status: number): void
}

/**
 * A framework's reply as the response phase sees and changes it. Headers are read from the
 * reply one name at a time, and what filters set or remove is kept as edits that `writeBack`
 * applies: a filter that reads one header and sets another costs two calls into the
 * framework, not a copy of every header and a diff. The whole list is taken only when it is
 * needed: a filter asks for every name, a local response replaces the reply, or a caller reads
 * `headers`. From then on `headers` is the reply's header list and `writeBack` compares it with
 * the framework's.
 */
export class LiveResponse<R> implements ResponseState {
  status: number
  body: Buffer | undefined
  changed = false
  bodyChanged = false
  readonly #access: ReplyAccess<R>
  readonly #reply: R
  /** Headers set (a value) or removed (undefined) while the list was not taken. */
  #edits: Map<string, ResponseHeaderValue | undefined> | undefined
  /** The whole list, once taken or replaced. */
  #all: ResponseHeaders | undefined

  constructor (access: ReplyAccess<R>, reply: R, status: number, body: Buffer | undefined) {
    this.#access = access
    this.#reply = reply
    this.status = status
    this.body = body
  }

  header (name: string): ResponseHeaderValue | undefined {
    const all = this.#all
    if (all !== undefined) return Object.hasOwn(all, name) ? all[name] : undefined
    const edits = this.#edits
    if (edits !== undefined && edits.has(name)) return edits.get(name)
    const value = this.#access.header(this.#reply, name)
    // Fastify keeps a reply's headers in a plain object: "constructor" would read as a function.
    return typeof value === 'function' ? undefined : value
  }

  /** Sets (a value) or removes (undefined) one header. */
  edit (name: string, value: ResponseHeaderValue | undefined): void {
    this.changed = true
    const all = this.#all
    if (all === undefined) (this.#edits ??= new Map()).set(name, value)
    else if (value !== undefined) all[name] = value
    else if (all[name] !== undefined) delete all[name]
  }

  /** Every header, with the filters' changes: takes the list from the reply the first time. */
  get headers (): ResponseHeaders {
    let all = this.#all
    if (all === undefined) {
      all = this.#access.headers(this.#reply)
      const edits = this.#edits
      if (edits !== undefined) {
        for (const [name, value] of edits) {
          if (value !== undefined) all[name] = value
          else if (all[name] !== undefined) delete all[name]
        }
        this.#edits = undefined
      }
      this.#all = all
    }
    return all
  }

  /** Replaces every header (a local response); `writeBack` removes the reply's others. */
  set headers (headers: ResponseHeaders) {
    this.#edits = undefined
    this.#all = headers
  }

  /**
   * Applies the status and headers the filters changed to the reply (the body is the
   * adapter's to send). With a new body, an `etag` the filters did not set is removed: it
   * described the old one.
   */
  writeBack (): void {
    if (!this.changed) return
    const access = this.#access
    const reply = this.#reply
    access.setStatus(reply, this.status)
    const all = this.#all
    if (all === undefined) {
      const edits = this.#edits
      if (edits !== undefined) {
        for (const [name, value] of edits) {
          if (value === undefined) access.removeHeader(reply, name)
          else access.setHeader(reply, name, value)
        }
      }
      if (this.bodyChanged && edits?.has('etag') !== true && access.header(reply, 'etag') !== undefined) access.removeHeader(reply, 'etag')
      return
    }
    const before = access.headers(reply)
    for (const name in before) {
      if (all[name] === undefined) access.removeHeader(reply, name)
    }
    for (const name in all) {
      const value = all[name]
      if (value !== undefined && before[name] !== value) access.setHeader(reply, name, value)
    }
    if (this.bodyChanged && before.etag !== undefined && all.etag === before.etag) access.removeHeader(reply, 'etag')
  }
}

/** One header of the reply: asked of the framework on a `LiveResponse`, else read from `headers`. */
export function replyHeader (res: ResponseState, name: string): ResponseHeaderValue | undefined {
  if (res instanceof LiveResponse) return res.header(name)
  return Object.hasOwn(res.headers, name) ? res.headers[name] : undefined
}

/** Sets (a value) or removes (undefined) one header of the reply, marking it changed. */
export function editReplyHeader (res: ResponseState, name: string, value: ResponseHeaderValue | undefined): void {
  if (res instanceof LiveResponse) return res.edit(name, value)
  if (value !== undefined) res.headers[name] = value
  else if (res.headers[name] !== undefined) delete res.headers[name]
  res.changed = true
}

/** The names of the reply's headers (on a `LiveResponse`, this takes the whole list). */
export function replyHeaderNames (res: ResponseState): string[] {
  const headers = res.headers
  const names: string[] = []
  for (const name in headers) if (headers[name] !== undefined) names.push(name)
  return names
}
