import { failureReason, type FilterCallEvent, type ReloadReport, type Wafer, type WaferObserver } from '@wafer/core'
import type { ConfigRoute, UpstreamObserver } from '@wafer/fastify'
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client'

/**
 * The gateway's Prometheus metrics, on a registry of its own (never prom-client's global one,
 * so embedding the gateway does not collide with the application's metrics).
 */
export class GatewayMetrics implements WaferObserver, UpstreamObserver {
  readonly registry = new Registry()
  readonly #calls: Counter<'filter' | 'phase' | 'outcome'>
  readonly #failures: Counter<'filter' | 'code' | 'reason'>
  readonly #duration: Histogram<'filter' | 'phase'>
  readonly #upstream: Counter<'route' | 'status'>
  readonly #upstreamErrors: Counter<'route' | 'code'>
  readonly #reloads: Counter<'outcome'>
  readonly #storeErrors: Counter<'op' | 'reason'>
  readonly #reloadDuration: Histogram
  #wafer: Wafer | undefined

  constructor () {
    const registers = [this.registry]
    collectDefaultMetrics({ register: this.registry, prefix: 'wafer_process_' })
    this.#calls = new Counter({ name: 'wafer_filter_calls_total', help: 'Filter calls by phase and outcome (continue, respond, close, error)', labelNames: ['filter', 'phase', 'outcome'], registers })
    this.#failures = new Counter({ name: 'wafer_filter_failures_total', help: 'Failed filter calls by error code and reason class (trap, fuel, memory, deadline, abi, state, circuit-open, ...)', labelNames: ['filter', 'code', 'reason'], registers })
    this.#duration = new Histogram({
      name: 'wafer_filter_duration_seconds',
      help: 'Time spent in each filter call, including asynchronous waits',
      labelNames: ['filter', 'phase'],
      buckets: [0.000005, 0.00001, 0.000025, 0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.005, 0.025, 0.1, 0.5, 2],
      registers
    })
    this.#upstream = new Counter({ name: 'wafer_upstream_responses_total', help: 'Upstream responses by route and status code', labelNames: ['route', 'status'], registers })
    this.#upstreamErrors = new Counter({ name: 'wafer_upstream_errors_total', help: 'Upstream failures (refused, reset, timeout) by route and error code', labelNames: ['route', 'code'], registers })
    this.#reloads = new Counter({ name: 'wafer_reloads_total', help: 'Reloads by outcome (applied, unchanged, failed)', labelNames: ['outcome'], registers })
    this.#reloadDuration = new Histogram({ name: 'wafer_reload_duration_seconds', help: 'Time to build and swap in a new version', buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10], registers })
    this.#storeErrors = new Counter({ name: 'wafer_store_errors_total', help: 'Failed key-value store operations (Redis down, slow or overloaded) by operation and reason', labelNames: ['op', 'reason'], registers })
    const metrics = this
    // eslint-disable-next-line no-new
    new Gauge({
      name: 'wafer_generation',
      help: 'The version (generation) of filters and chains serving new requests',
      registers,
      collect () { this.set(metrics.#wafer?.generation.id ?? 0) }
    })
    // eslint-disable-next-line no-new
    new Gauge({
      name: 'wafer_pool_instances',
      help: 'Filter instances by state (idle, busy)',
      labelNames: ['filter', 'state'],
      registers,
      collect () {
        this.reset()
        for (const f of metrics.#wafer?.status().filters ?? []) {
          this.set({ filter: f.name, state: 'idle' }, f.pool.idle)
          this.set({ filter: f.name, state: 'busy' }, f.pool.busy)
        }
      }
    })
    // eslint-disable-next-line no-new
    new Gauge({
      name: 'wafer_breaker_open',
      help: 'Whether each filter\'s circuit breaker is open (1), half-open (0.5) or closed (0)',
      labelNames: ['filter'],
      registers,
      collect () {
        this.reset()
        for (const f of metrics.#wafer?.status().filters ?? []) {
          this.set({ filter: f.name }, f.breaker.state === 'open' ? 1 : f.breaker.state === 'half-open' ? 0.5 : 0)
        }
      }
    })
  }

  /**
   * The runtime whose pools the gauge reports. Its Proxy-Wasm filters' metrics join the registry
   * (`wafer_proxy_<name>`, docs/proxy-wasm.md "Metrics"); one whose name an existing metric has
   * is left out, with a warning.
   */
  attach (wafer: Wafer): void {
    this.#wafer = wafer
    wafer.proxyMetrics.register(this.registry, (err, name) => {
      wafer.logger.warn({ err, metric: name }, `Proxy-Wasm metric ${name} is not exported on /metrics: ${err instanceof Error ? err.message : String(err)}`)
    })
  }

  onFilterCall (e: FilterCallEvent): void {
    this.#calls.inc({ filter: e.filter, phase: e.phase, outcome: e.outcome })
    this.#duration.observe({ filter: e.filter, phase: e.phase }, e.durationMs / 1000)
    if (e.errorCode !== undefined) this.#failures.inc({ filter: e.filter, code: e.errorCode, reason: failureReason(e.errorCode) })
  }

  onReload (report: ReloadReport): void {
    this.#reloads.inc({ outcome: report.outcome })
    this.#reloadDuration.observe(report.durationMs / 1000)
  }

  onStoreError (op: string, err: Error): void {
    const reason = (err as { reason?: unknown }).reason
    this.#storeErrors.inc({ op, reason: typeof reason === 'string' ? reason : 'error' })
  }

  onUpstreamResponse (route: ConfigRoute, status: number): void {
    this.#upstream.inc({ route: routeLabel(route), status: String(status) })
  }

  onUpstreamError (route: ConfigRoute, code: string): void {
    this.#upstreamErrors.inc({ route: routeLabel(route), code })
  }
}

function routeLabel (route: ConfigRoute): string {
  return `${route.index}:${route.match.path}`
}
