import cluster, { type Worker } from 'node:cluster'
import { configModules, loadConfig, watchConfig, type ReloadReport, type ResolvedConfig, type WaferStatus } from '@wafer/core'
import Fastify, { type FastifyBaseLogger } from 'fastify'
import { AggregatorRegistry } from 'prom-client'
import { adminToken, guardAdmin } from './admin.js'
import type { Gateway } from './gateway.js'

/** Messages between the primary and its workers (besides prom-client's own). */
type Request = { wafer: 'reload' | 'status', id: number }
type Reply = { wafer: 'reply', id: number, body: unknown }

export interface ClusterOptions {
  config: string
  workers: number
  adminPort?: number
  watch?: boolean
  logger: FastifyBaseLogger
}

export interface WorkerReport<T> {
  pid: number
  result: T | { error: string }
}

/**
 * The primary of `wafer serve --workers N`: forks the workers (they share the public port),
 * replaces one that dies, and owns everything that concerns all of them: the admin listener
 * (status of every worker, metrics summed over workers), reloads (file watch, SIGHUP,
 * POST /_wafer/reload are broadcast to every worker) and graceful shutdown.
 */
export async function runPrimary (options: ClusterOptions): Promise<{ url: string, adminUrl: string | undefined, reload: () => Promise<Array<WorkerReport<ReloadReport>>>, close: () => Promise<void> }> {
  // Validate once, before forking: a broken config never starts a worker.
  const config: ResolvedConfig = await loadConfig(options.config)
  if (config.admin.enabled) adminToken(config.admin.token, process.env)
  const log = options.logger
  let closing = false
  let nextId = 1
  const pending = new Map<number, (reply: Reply) => void>()

  const fork = (): Worker => {
    const worker = cluster.fork({ WAFER_WORKER: '1' })
    worker.on('message', (msg: Reply) => {
      if (msg?.wafer === 'reply') pending.get(msg.id)?.(msg)
    })
    return worker
  }
  cluster.on('exit', (worker, code, signal) => {
    if (closing) return
    log.error({ pid: worker.process.pid, code, signal }, `worker ${String(worker.process.pid)} exited (${signal ?? code}); starting another`)
    fork()
  })
  const workers = (): Worker[] => Object.values(cluster.workers ?? {}).filter((w): w is Worker => w !== undefined && w.isConnected())

  /** Asks every worker and waits for each answer (or its failure), at most `timeoutMs`. */
  const ask = <T>(wafer: Request['wafer'], timeoutMs = 30_000): Promise<Array<WorkerReport<T>>> =>
    Promise.all(workers().map((w) => new Promise<WorkerReport<T>>((resolve) => {
      const id = nextId++
      const pid = w.process.pid ?? 0
      const timer = setTimeout(() => { pending.delete(id); resolve({ pid, result: { error: `no answer within ${timeoutMs} ms` } }) }, timeoutMs)
      pending.set(id, (reply) => { clearTimeout(timer); pending.delete(id); resolve({ pid, result: reply.body as T }) })
      w.send({ wafer, id } satisfies Request)
    })))

  const ready = Array.from({ length: options.workers }, () => new Promise<string>((resolve, reject) => {
    const w = fork()
    w.once('listening', (address) => resolve(`http://${address.address ?? '127.0.0.1'}:${address.port}`))
    w.once('exit', (code) => reject(new Error(`a worker exited with code ${String(code)} before listening`)))
  }))
  const [url] = await Promise.all(ready)

  // The modules the latest readable config names, so the watch follows the config.
  let modules = configModules(config)
  let debounceMs = config.reload.debounceMs
  const reloadAll = async (): Promise<Array<WorkerReport<ReloadReport>>> => {
    try {
      const loaded = await loadConfig(options.config)
      modules = configModules(loaded)
      debounceMs = loaded.reload.debounceMs
    } catch {
      // The workers' reload reports the same error; the watch keeps its files.
    }
    const reports = await ask<ReloadReport>('reload')
    const outcomes = reports.map((r) => 'outcome' in r.result ? r.result.outcome : 'failed')
    log.info({ outcomes }, `reload on ${reports.length} workers: ${outcomes.join(', ')}`)
    return reports
  }

  const aggregator = new AggregatorRegistry()
  let adminUrl: string | undefined
  const admin = config.admin.enabled ? Fastify({ loggerInstance: log.child({ server: 'admin' }) }) : undefined
  if (admin !== undefined) {
    guardAdmin(admin, config.admin)
    admin.get('/_wafer/status', async () => ({ status: 'ok', config: config.source, workers: await ask<WaferStatus>('status') }))
    admin.get('/metrics', async (_request, reply) => {
      reply.type(aggregator.contentType)
      return aggregator.clusterMetrics()
    })
    admin.post('/_wafer/reload', async (_request, reply) => {
      const reports = await reloadAll()
      const failed = reports.some((r) => !('outcome' in r.result) || r.result.outcome === 'failed')
      reply.code(failed ? 422 : 200)
      return { workers: reports }
    })
    adminUrl = await admin.listen({ port: options.adminPort ?? config.admin.port, host: config.admin.host })
  }

  const watch = options.watch ?? config.reload.watch
  const watcher = watch
    ? watchConfig(() => [config.source, ...modules], reloadAll, { debounceMs: () => debounceMs, log })
    : undefined
  await watcher?.ready

  return {
    url: url as string,
    adminUrl,
    reload: reloadAll,
    async close () {
      closing = true
      await watcher?.close()
      await admin?.close()
      // Each worker finishes its in-flight requests (bounded by server.shutdownTimeoutMs).
      await Promise.all(workers().map((w) => new Promise<void>((resolve) => {
        w.once('exit', () => resolve())
        w.process.kill('SIGTERM')
      })))
    }
  }
}

/** In a worker: answer the primary's reload and status requests, and report metrics to it. */
export function serveWorker (gateway: Gateway): void {
  // prom-client installs its worker-side listener only when an AggregatorRegistry is constructed.
  // eslint-disable-next-line no-new
  new AggregatorRegistry()
  AggregatorRegistry.setRegistries([gateway.metrics.registry])
  process.on('message', (msg: Request) => {
    if (msg?.wafer !== 'reload' && msg?.wafer !== 'status') return
    const answer = (body: unknown): void => { process.send?.({ wafer: 'reply', id: msg.id, body } satisfies Reply) }
    if (msg.wafer === 'status') answer(gateway.app.wafer.status())
    else gateway.reload().then(answer, (err: unknown) => { answer({ error: (err as Error).message }) })
  })
}

export function isClusterWorker (): boolean {
  return cluster.isWorker && process.env.WAFER_WORKER === '1'
}

