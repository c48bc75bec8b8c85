import { spawn, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { connect, createServer, type AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { setTimeout as sleep } from 'node:timers/promises'

/**
 * A Redis server for tests. `startRedis()` uses the one at REDIS_URL when that is set, and
 * spawns a private `redis-server` otherwise; failure tests need to stop and freeze the server,
 * so they use `spawnRedis()`, which always spawns one (also when REDIS_URL is set).
 * Stop it in `t.after` (or `after`): `t.after(() => redis.stop())`.
 */
export interface RedisServer {
  url: string
  port: number
  /** True for the server at REDIS_URL: shared, so use unique key prefixes and never flush it. */
  external: boolean
  /** Kills the server (SIGKILL: no persistence, nothing to save). Idempotent. */
  stop (): Promise<void>
  /** SIGSTOP: the server keeps its connections but answers nothing, like a stalled Redis. */
  pause (): void
  /** SIGCONT: it answers what arrived while paused, then carries on. */
  resume (): void
  /** Stops the server if it runs and starts a new, empty one on the same port. */
  restart (): Promise<void>
}

const BINARY = process.env.REDIS_SERVER ?? 'redis-server'
const running = new Set<ChildProcess>()
process.on('exit', () => { for (const child of running) child.kill('SIGKILL') })

export async function startRedis (): Promise<RedisServer> {
  const url = process.env.REDIS_URL
  if (url === undefined || url === '') return await spawnRedis()
  const port = Number(new URL(url).port || 6379)
  const unavailable = (what: string) => (): never => {
    throw new Error(`${what}() needs a redis-server spawned by the test (REDIS_URL is shared): use spawnRedis()`)
  }
  return { url, port, external: true, stop: async () => {}, pause: unavailable('pause'), resume: unavailable('resume'), restart: unavailable('restart') }
}

/** `port`: a given one (e.g. one a client already tries), instead of a free one found here. */
export async function spawnRedis (options: { port?: number } = {}): Promise<RedisServer> {
  let child: ChildProcess | undefined
  let port = 0
  for (let attempt = 1; child === undefined; attempt++) {
    port = options.port ?? await freePort()
    try {
      child = await launch(port)
    } catch (err) {
      // Another process may have taken the port between our probe and redis binding it.
      if (options.port !== undefined || attempt >= 5 || !(err instanceof Error) || !/in use/i.test(err.message)) throw err
    }
  }
  const stop = async (): Promise<void> => {
    const c = child
    child = undefined
    if (c === undefined || c.exitCode !== null || c.signalCode !== null) return
    const exited = once(c, 'exit')
    c.kill('SIGKILL')
    await exited
    running.delete(c)
  }
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    external: false,
    stop,
    pause: () => { signal(child, 'SIGSTOP') },
    resume: () => { signal(child, 'SIGCONT') },
    restart: async () => {
      await stop()
      // The old listening socket is gone once the process has exited; retry briefly anyway.
      for (let attempt = 1; ; attempt++) {
        try {
          child = await launch(port)
          return
        } catch (err) {
          if (attempt >= 20 || !(err instanceof Error) || !/in use/i.test(err.message)) throw err
          await sleep(50)
        }
      }
    }
  }
}

/** A port nothing listens on right now (also handy for "Redis is down" tests). */
export async function freePort (): Promise<number> {
  const server = createServer()
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  const { port } = server.address() as AddressInfo
  server.close()
  await once(server, 'close')
  return port
}

function signal (child: ChildProcess | undefined, sig: NodeJS.Signals): void {
  if (child === undefined || child.exitCode !== null || child.signalCode !== null) throw new Error(`redis-server is not running; cannot send ${sig}`)
  child.kill(sig)
}

async function launch (port: number): Promise<ChildProcess> {
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', tmpdir(), '--daemonize', 'no']
  const child = spawn(BINARY, args, { stdio: ['ignore', 'pipe', 'pipe'] })
  running.add(child)
  let output = ''
  const keep = (chunk: Buffer): void => { output = (output + chunk.toString()).slice(-2000) }
  child.stdout?.on('data', keep)
  child.stderr?.on('data', keep)
  let failure: Error | undefined
  child.once('error', (err: NodeJS.ErrnoException) => {
    failure = err.code === 'ENOENT'
      ? new Error(`${BINARY} not found: install Redis (Debian: apt-get install redis-server), set REDIS_SERVER to its path, or set REDIS_URL`)
      : err
  })
  child.once('exit', () => { running.delete(child) })
  const deadline = Date.now() + 10_000
  while (true) {
    if (failure !== undefined) throw failure
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`redis-server on port ${port} exited (${child.exitCode ?? child.signalCode}): ${output.trim().split('\n').slice(-3).join(' | ')}`)
    }
    if (await pings(port)) return child
    if (Date.now() > deadline) {
      child.kill('SIGKILL')
      throw new Error(`redis-server on port ${port} did not answer PING within 10 s: ${output.trim().split('\n').slice(-3).join(' | ')}`)
    }
    await sleep(10)
  }
}

/** One PING on a fresh connection; true when answered with PONG. */
async function pings (port: number): Promise<boolean> {
  return await new Promise((resolve) => {
    const socket = connect({ port, host: '127.0.0.1' })
    let reply = ''
    const done = (ok: boolean): void => { socket.destroy(); resolve(ok) }
    socket.setTimeout(1000, () => { done(false) })
    socket.once('error', () => { done(false) })
    socket.once('connect', () => { socket.write('PING\r\n') })
    socket.on('data', (chunk) => {
      reply += chunk.toString()
      if (reply.includes('\r\n')) done(reply.startsWith('+PONG'))
    })
  })
}
