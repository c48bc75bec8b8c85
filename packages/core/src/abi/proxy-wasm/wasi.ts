import type { FuncType } from '../../wasm/binary.js'
import type { GuestMemory } from '../guest-memory.js'
import { fillRandom } from '../random-bytes.js'
import { Errno, sig, type Support } from './spec.js'

export const WASI_MODULE = 'wasi_snapshot_preview1'
/** The older name of the same functions, which the cpp-host provides too (the types Wafer writes did not change). */
export const WASI_UNSTABLE = 'wasi_unstable'

export interface WasiCall {
  sig: FuncType
  support: Support
  capability?: string
}

const w = (params: string, support: Support = 'not supported', capability?: string): WasiCall =>
  ({ sig: sig(params, 'i'), support, ...(capability === undefined ? {} : { capability }) })

/**
 * WASI preview 1, every function, so that modules built by Go, TinyGo, Rust or Emscripten
 * (which import some of them by default) load. Those a filter needs are implemented: output to
 * the filter's log, clocks, randomness, an empty environment and argument list. No file system,
 * no sockets: file descriptor calls answer EBADF (there are no open files, and no preopened
 * directories), the rest ENOSYS. `proc_exit` ends the call as a trap.
 */
export const WASI_CALLS: Readonly<Record<string, WasiCall>> = {
  fd_write: w('iiii', 'supported', 'log'),
  clock_time_get: w('iIi', 'supported', 'clock'),
  clock_res_get: w('ii', 'supported', 'clock'),
  random_get: w('ii', 'supported', 'random'),
  environ_sizes_get: w('ii', 'supported'),
  environ_get: w('ii', 'supported'),
  args_sizes_get: w('ii', 'supported'),
  args_get: w('ii', 'supported'),
  sched_yield: w('', 'supported'),
  proc_exit: { sig: sig('i'), support: 'partial' },
  fd_fdstat_get: w('ii', 'partial'),
  fd_advise: w('iIIi'),
  fd_allocate: w('iII'),
  fd_close: w('i'),
  fd_datasync: w('i'),
  fd_fdstat_set_flags: w('ii'),
  fd_fdstat_set_rights: w('iII'),
  fd_filestat_get: w('ii'),
  fd_filestat_set_size: w('iI'),
  fd_filestat_set_times: w('iIIi'),
  fd_pread: w('iiiIi'),
  fd_prestat_get: w('ii'),
  fd_prestat_dir_name: w('iii'),
  fd_pwrite: w('iiiIi'),
  fd_read: w('iiii'),
  fd_readdir: w('iiiIi'),
  fd_renumber: w('ii'),
  fd_seek: w('iIii'),
  fd_sync: w('i'),
  fd_tell: w('ii'),
  path_create_directory: w('iii'),
  path_filestat_get: w('iiiii'),
  path_filestat_set_times: w('iiiiIIi'),
  path_link: w('iiiiiii'),
  path_open: w('iiiiiIIii'),
  path_readlink: w('iiiiii'),
  path_remove_directory: w('iii'),
  path_rename: w('iiiiii'),
  path_symlink: w('iiiii'),
  path_unlink_file: w('iii'),
  poll_oneoff: w('iiii'),
  proc_raise: w('i'),
  sock_accept: w('iii'),
  sock_recv: w('iiiiii'),
  sock_send: w('iiiii'),
  sock_shutdown: w('ii')
}

/**
 * `proc_exit` from the guest: thrown through the guest's frames (the one host call that does not
 * return), it ends the callback as a trap and the instance is discarded.
 */
export class ProcExit extends Error {
  constructor (readonly exitCode: number) {
    super(`it called proc_exit(${exitCode})`)
  }
}

/** What the WASI stubs need from the instance. */
export interface WasiHost {
  mem: GuestMemory
  /** Logs a line the guest wrote: fd 1 at info, fd 2 at error. */
  write: (fd: 1 | 2, text: string) => void
  /** Records a bad pointer, raised when the callback returns. */
  badPointer: (where: string, ptr: number, len: number) => void
  maxOutputBytes: number
}

const MAX_RANDOM = 64 * 1024
const MAX_IOVECS = 1024

export function wasiImports (host: WasiHost): WebAssembly.ModuleImports {
  const { mem } = host
  const out = (where: string, ptr: number, len: number): boolean => {
    if (mem.inBounds(ptr, len)) return true
    host.badPointer(where, ptr, len)
    return false
  }
  const pair = (where: string, a: number, b: number, va: number, vb: number): number => {
    if (!out(where, a, 4) || !out(where, b, 4)) return Errno.Fault
    mem.view().writeUInt32LE(va >>> 0, a >>> 0)
    mem.view().writeUInt32LE(vb >>> 0, b >>> 0)
    return Errno.Success
  }
  const imports: WebAssembly.ModuleImports = {
    fd_write: (fd: number, iovs: number, count: number, written: number): number => {
      if (fd !== 1 && fd !== 2) return Errno.BadF
      if (count >>> 0 > MAX_IOVECS) return Errno.Inval
      if (!out('fd_write', iovs, (count >>> 0) * 8) || !out('fd_write', written, 4)) return Errno.Fault
      const parts: string[] = []
      let total = 0
      for (let i = 0; i < count >>> 0; i++) {
        const v = mem.view()
        const ptr = v.readUInt32LE((iovs >>> 0) + i * 8)
        const len = v.readUInt32LE((iovs >>> 0) + i * 8 + 4)
        if (!out('fd_write', ptr, len)) return Errno.Fault
        total += len
        if (total > host.maxOutputBytes) return Errno.Inval
        parts.push(mem.utf8(ptr, len))
      }
      const text = parts.join('')
      if (text !== '') host.write(fd, text.endsWith('\n') ? text.slice(0, -1) : text)
      mem.view().writeUInt32LE(total, written >>> 0)
      return Errno.Success
    },
    clock_time_get: (id: number, _precision: bigint, ptr: number): number => {
      if (id !== 0 && id !== 1) return Errno.NotSup
      if (!out('clock_time_get', ptr, 8)) return Errno.Fault
      mem.view().writeBigUInt64LE(id === 0 ? nowNanoseconds() : process.hrtime.bigint(), ptr >>> 0)
      return Errno.Success
    },
    clock_res_get: (id: number, ptr: number): number => {
      if (id !== 0 && id !== 1) return Errno.NotSup
      if (!out('clock_res_get', ptr, 8)) return Errno.Fault
      mem.view().writeBigUInt64LE(1000n, ptr >>> 0)
      return Errno.Success
    },
    random_get: (ptr: number, len: number): number => {
      if (len >>> 0 > MAX_RANDOM) return Errno.Inval
      if (!out('random_get', ptr, len)) return Errno.Fault
      fillRandom(mem.view(), ptr >>> 0, len >>> 0)
      return Errno.Success
    },
    environ_sizes_get: (count: number, size: number): number => pair('environ_sizes_get', count, size, 0, 0),
    environ_get: (): number => Errno.Success,
    args_sizes_get: (count: number, size: number): number => pair('args_sizes_get', count, size, 0, 0),
    args_get: (): number => Errno.Success,
    sched_yield: (): number => Errno.Success,
    proc_exit: (code: number): never => { throw new ProcExit(code) },
    fd_fdstat_get: (fd: number, ptr: number): number => {
      if (fd !== 1 && fd !== 2) return Errno.BadF
      if (!out('fd_fdstat_get', ptr, 24)) return Errno.Fault
      const v = mem.view()
      v.fill(0, ptr >>> 0, (ptr >>> 0) + 24)
      v[ptr >>> 0] = 2 // filetype: character device
      v.writeBigUInt64LE(64n, (ptr >>> 0) + 8) // rights: fd_write
      return Errno.Success
    }
  }
  for (const name of Object.keys(WASI_CALLS)) {
    if (imports[name] !== undefined) continue
    const answer = name.startsWith('fd_') ? Errno.BadF : Errno.NoSys
    imports[name] = (): number => answer
  }
  return imports
}

/** Wall-clock time in nanoseconds. */
export function nowNanoseconds (): bigint {
  return BigInt(Date.now()) * 1_000_000n
}
