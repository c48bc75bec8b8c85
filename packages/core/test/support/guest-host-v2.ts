// The imports of docs/abi.md for the sandbox tests, over one in-memory request: small,
// deterministic, and as strict about pointers as the real host. Not the runtime's host: the
// sandbox tests instantiate modules directly, instrumented or not, and compare what they did.

/** Where each import takes its (pointer, length) pairs, and its 24-byte kv result record. */
export const POINTERS: Record<string, { pairs: Array<[number, number]>, record?: number }> = {
  config_read: { pairs: [[0, 1]] },
  init_reject: { pairs: [[0, 1]] },
  get: { pairs: [[1, 2]] },
  set: { pairs: [[1, 2]] },
  status_get: { pairs: [] },
  status_set: { pairs: [] },
  header_get: { pairs: [[1, 2], [3, 4]] },
  header_values: { pairs: [[1, 2], [3, 4]] },
  header_names: { pairs: [[1, 2]] },
  header_set: { pairs: [[1, 2], [3, 4]] },
  header_add: { pairs: [[1, 2], [3, 4]] },
  header_remove: { pairs: [[1, 2]] },
  respond: { pairs: [[1, 2]] },
  log: { pairs: [[1, 2]] },
  now_ms: { pairs: [] },
  random_fill: { pairs: [[0, 1]] },
  kv_get: { pairs: [[0, 1], [2, 3]], record: 4 },
  kv_set: { pairs: [[0, 1], [2, 3]], record: 5 },
  kv_incr: { pairs: [[0, 1]], record: 4 },
  kv_del: { pairs: [[0, 1]], record: 2 }
}

export const RECORD_BYTES = 24

const BAD_POINTER = -1
const TOO_LARGE = -2
const UNAVAILABLE = -3
const NOT_FOUND = -4
const BAD_ARGUMENT = -7

/** Whether the unsigned range [ptr, ptr + len) lies inside a memory of `size` bytes. */
export function inside (size: number, ptr: number, len: number): boolean {
  return (ptr >>> 0) + (len >>> 0) <= size
}

/** The request a phase sees: what `requestInput()` of sandbox-guest.ts describes. */
export interface RequestState {
  id: string
  method: string
  path: string
  query: string
  remoteAddress: string
  headers: Record<string, string>
}

/** A pending kv operation: where its result goes when `resume` delivers it. */
interface Pending { name: string, record: number, buf: number, cap: number }

export class HostV2 {
  /** The configuration `config_read` returns during wafer_init; undefined outside it. */
  config: Uint8Array | undefined
  request: RequestState = { id: 'req-1', method: 'GET', path: '/', query: '', remoteAddress: '127.0.0.1', headers: {} }
  /** Header maps 0-3 (REQUEST, RESPONSE, LOCAL, RESPONSE_ADD), names lower-case. */
  maps: Array<Map<string, string[]>> = [new Map(), new Map(), new Map(), new Map()]
  /** What the guest changed in the current entry, in order: set, header writes and respond. */
  effects: unknown[] = []
  rejected: string | undefined
  /** The reply's status in the response phase; undefined in the request phase. */
  status: number | undefined
  readonly #pending = new Map<number, Pending>()
  #token = 0
  #seed = 0

  constructor (private readonly memory: () => WebAssembly.Memory | undefined) {}

  /**
   * Starts an entry: `wafer_init` with a configuration, the request phase with a request, or the
   * response phase with a request and the reply (its status and headers).
   */
  begin (config: Uint8Array | undefined, request?: Partial<RequestState>, reply?: { status: number, headers: Record<string, string> }): void {
    this.config = config
    this.effects = []
    if (request !== undefined) {
      const entries = (h: Record<string, string> | undefined): Map<string, string[]> => new Map(Object.entries(h ?? {}).map(([k, v]) => [k, [v]]))
      this.request = { ...this.request, ...request }
      this.status = reply?.status
      this.maps = [entries(request.headers), entries(reply?.headers), new Map(), new Map()]
    }
  }

  /** The import object: every name of docs/abi.md section 4, each recording into `calls`. */
  imports (record: (name: string, args: number[]) => void): Record<string, (...args: number[]) => number> {
    return Object.fromEntries(Object.keys(POINTERS).map((name) => [name, (...args: number[]) => {
      record(name, args)
      return this.#call(name, args)
    }]))
  }

  /** Delivers a kv result the way the host does before `wafer_on_resume(token)`. */
  deliver (token: number, status: number, data: Uint8Array): void {
    const p = this.#pending.get(token)
    const memory = this.memory()
    if (p === undefined || memory === undefined) throw new Error(`no pending operation ${token}`)
    this.#pending.delete(token)
    const view = new DataView(memory.buffer)
    view.setInt32(p.record, status, true)
    if (p.name === 'kv_get') {
      view.setInt32(p.record + 4, data.length, true)
      if (data.length <= p.cap) new Uint8Array(memory.buffer).set(data, p.buf)
    }
    if (p.name === 'kv_incr' && status === 0) {
      const { value, ttlMs } = JSON.parse(Buffer.from(data).toString()) as { value: number, ttlMs: number }
      view.setFloat64(p.record + 8, value, true)
      view.setFloat64(p.record + 16, ttlMs, true)
    }
  }

  #call (name: string, args: number[]): number {
    const memory = this.memory()
    if (memory === undefined) return BAD_POINTER
    const size = memory.buffer.byteLength
    const where = POINTERS[name] ?? { pairs: [] }
    if (where.pairs.some(([p, l]) => !inside(size, args[p] as number, args[l] as number))) return BAD_POINTER
    if (where.record !== undefined && !inside(size, args[where.record] as number, RECORD_BYTES)) return BAD_POINTER
    const bytes = (ptr: number, len: number): Buffer => Buffer.from(memory.buffer, ptr >>> 0, len >>> 0)
    const text = (ptr: number, len: number): string => bytes(ptr, len).toString('latin1')
    const answer = (value: Uint8Array | string, buf: number, cap: number): number => {
      const b = typeof value === 'string' ? Buffer.from(value, 'latin1') : value
      if (b.length <= (cap >>> 0)) new Uint8Array(memory.buffer).set(b, buf)
      return b.length
    }
    const [a0, a1, a2, a3, a4] = args as [number, number, number, number, number]
    const map = (id: number): Map<string, string[]> | undefined => this.maps[id]
    switch (name) {
      case 'config_read':
        return this.config === undefined ? UNAVAILABLE : answer(this.config, a0, a1)
      case 'init_reject':
        this.rejected = bytes(a0, a1).toString()
        return 0
      case 'get': {
        const r = this.request
        const fields = [r.method, r.path, r.query, r.remoteAddress, r.id]
        if (a0 === 5 || a0 === 6) return UNAVAILABLE
        const value = fields[a0]
        return value === undefined ? BAD_ARGUMENT : answer(value, a1, a2)
      }
      case 'set':
        if (a0 === 5 || a0 === 6) return UNAVAILABLE
        if (a0 !== 1 && a0 !== 2) return BAD_ARGUMENT
        this.request = { ...this.request, [a0 === 1 ? 'path' : 'query']: text(a1, a2) }
        this.effects.push([name, a0, text(a1, a2)])
        return 0
      case 'status_get':
        return this.status ?? UNAVAILABLE
      case 'status_set':
        if (this.status === undefined) return UNAVAILABLE
        if (a0 < 200 || a0 > 599) return BAD_ARGUMENT
        this.status = a0
        this.effects.push([name, a0])
        return 0
      case 'header_get':
      case 'header_values': {
        const values = map(a0)?.get(text(a1, a2).toLowerCase())
        if (map(a0) === undefined) return BAD_ARGUMENT
        if (values === undefined) return NOT_FOUND
        return answer(name === 'header_get' ? values.join(', ') : values.map((v) => `${v}\0`).join(''), a3, a4)
      }
      case 'header_names': {
        const m = map(a0)
        return m === undefined ? BAD_ARGUMENT : answer([...m.keys()].map((k) => `${k}\0`).join(''), a1, a2)
      }
      case 'header_set':
      case 'header_add': {
        const m = map(a0)
        if (m === undefined) return BAD_ARGUMENT
        const key = text(a1, a2).toLowerCase()
        const value = text(a3, a4)
        m.set(key, name === 'header_set' ? [value] : [...(m.get(key) ?? []), value])
        this.effects.push([name, a0, key, value])
        return 0
      }
      case 'header_remove': {
        const m = map(a0)
        if (m === undefined) return BAD_ARGUMENT
        const key = text(a1, a2).toLowerCase()
        if (!m.delete(key)) return NOT_FOUND
        this.effects.push([name, a0, key])
        return 0
      }
      case 'respond':
        if (a0 < 200 || a0 > 599) return BAD_ARGUMENT
        this.effects.push([name, a0, bytes(a1, a2).length])
        return 0
      case 'log':
        return 0
      case 'now_ms':
        return 1_700_000_000_000
      case 'random_fill': {
        if ((a1 >>> 0) > 65536) return TOO_LARGE
        const view = new Uint8Array(memory.buffer, a0, a1)
        for (let i = 0; i < a1; i++) view[i] = (this.#seed++ * 131) & 0xff
        return 0
      }
      default: { // kv_*: answered later, like a remote store, through deliver()
        if (this.config !== undefined) return UNAVAILABLE
        const token = ++this.#token
        const recordAt = args[(where.record as number)] as number
        this.#pending.set(token, { name, record: recordAt, buf: name === 'kv_get' ? a2 : 0, cap: name === 'kv_get' ? a3 : 0 })
        return token
      }
    }
  }
}
