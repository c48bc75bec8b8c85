/**
 * Proxy-Wasm metrics (docs/proxy-wasm.md, "Metrics"): the counters, gauges and histograms
 * filters define with `proxy_define_metric`. One registry per Wafer runtime, per process; a
 * filter's metrics outlive reloads and its instances (every instance defines the same names in
 * its root context and gets the same ids). Read them with `snapshot()`, or export them with
 * `register()` on a prom-client `Registry` (the gateway's `/metrics` does).
 */

/** `proxy_metric_type_t`. */
export type ProxyMetricType = 'counter' | 'gauge' | 'histogram'
const TYPES: readonly ProxyMetricType[] = ['counter', 'gauge', 'histogram']

/** Most metrics one filter may define; a define past it gets INTERNAL_FAILURE and one log line. */
export const MAX_METRICS_PER_FILTER = 256
/** The longest metric name, in bytes. */
export const MAX_METRIC_NAME_BYTES = 256
/**
 * Histogram bucket upper bounds, in the unit the filter records in: Envoy's default buckets
 * (Envoy filters record milliseconds, bytes, counts).
 */
export const HISTOGRAM_BUCKETS: readonly number[] = [0.5, 1, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 30000, 60000, 300000, 600000, 1800000, 3600000]
/** Metric ids carry their type in the low 2 bits, as in Envoy. */
const TYPE_BITS = 2

/** One metric: a counter or gauge keeps `value`; a histogram `buckets` (not cumulative), `sum` and `count`. */
export class ProxyMetric {
  readonly filter: string
  readonly name: string
  readonly type: ProxyMetricType
  value = 0
  sum = 0
  count = 0
  readonly buckets: Float64Array | undefined

  constructor (filter: string, name: string, type: ProxyMetricType) {
    this.filter = filter
    this.name = name
    this.type = type
    this.buckets = type === 'histogram' ? new Float64Array(HISTOGRAM_BUCKETS.length) : undefined
  }

  observe (v: number): void {
    this.sum += v
    this.count++
    const b = this.buckets as Float64Array
    for (let i = 0; i < HISTOGRAM_BUCKETS.length; i++) {
      if (v <= (HISTOGRAM_BUCKETS[i] as number)) {
        b[i] = (b[i] as number) + 1
        return
      }
    }
  }
}

/** What `define` did: the metric's id, or why there is none. */
export type DefineResult = number | 'full' | 'type-mismatch'

/** One filter's metrics, by name; ids are the filter's own (a filter cannot reach another's). */
export class FilterMetrics {
  readonly filter: string
  readonly #registry: ProxyMetrics
  readonly #byName = new Map<string, number>()
  readonly #list: ProxyMetric[] = []
  /** The bound was logged once already. */
  warned = false

  constructor (filter: string, registry: ProxyMetrics) {
    this.filter = filter
    this.#registry = registry
  }

  /** Defines `name` (or finds it: the same name gives the same id) as metric type `type` (0, 1, 2). */
  define (type: number, name: string): DefineResult {
    const t = TYPES[type] as ProxyMetricType
    const found = this.#byName.get(name)
    if (found !== undefined) return (this.#list[(found >>> TYPE_BITS) - 1] as ProxyMetric).type === t ? found : 'type-mismatch'
    if (this.#list.length >= MAX_METRICS_PER_FILTER) return 'full'
    const metric = new ProxyMetric(this.filter, name, t)
    this.#list.push(metric)
    const id = (this.#list.length << TYPE_BITS) | type
    this.#byName.set(name, id)
    this.#registry.added(metric)
    return id
  }

  /** The metric with this id, or undefined. */
  get (id: number): ProxyMetric | undefined {
    const m = this.#list[(id >>> TYPE_BITS) - 1]
    return m !== undefined && TYPES[id & 3] === m.type ? m : undefined
  }

  get size (): number {
    return this.#list.length
  }
}

/** A metric as `snapshot()` reports it. */
export interface ProxyMetricSnapshot {
  filter: string
  /** The name the filter gave it (Envoy style, dots and all). */
  name: string
  type: ProxyMetricType
  /** A counter's or gauge's value; a histogram's sum. */
  value: number
  /** Histograms: the number of values recorded, and cumulative counts by upper bound (`le`). */
  count?: number
  buckets?: Array<{ le: number, count: number }>
}

/** The shape of a prom-client metric object (`Metric#get()`), which `register` hands a registry. */
export interface PromMetricObject {
  name: string
  help: string
  type: 'counter' | 'gauge' | 'histogram'
  aggregator: 'sum'
  values: Array<{ value: number, labels: Record<string, string | number>, metricName?: string }>
}

/** The collector `register` hands a registry: what prom-client's `Registry` reads of a metric. */
export interface PromCollector {
  name: string
  help: string
  type: string
  aggregator: string
  get: () => Promise<PromMetricObject>
  reset: () => void
}

/**
 * What `register` needs of a prom-client `Registry`: only `registerMetric`, without importing
 * prom-client. prom-client types its parameter as its own metric classes, though it reads only
 * what `PromCollector` has; `never` lets a `Registry` be passed as it is.
 */
export interface PromRegistryLike {
  registerMetric: (metric: never) => void
}

/** A Prometheus family: one name, one type, one line per (filter, original name). */
interface Family {
  readonly name: string
  readonly type: ProxyMetricType
  readonly metrics: ProxyMetric[]
}

/**
 * The runtime's Proxy-Wasm metrics. Prometheus names: `wafer_proxy_` and the name with every
 * character outside `[a-zA-Z0-9_:]` replaced by `_` (`envoy.http.rq` -> `wafer_proxy_envoy_http_rq`),
 * `_total` added to counters; labels `filter` and `name` (the original name). A name already
 * taken by a family of another type gets its type as a suffix (`wafer_proxy_x_histogram`).
 */
export class ProxyMetrics {
  readonly #filters = new Map<string, FilterMetrics>()
  readonly #families = new Map<string, Family>()
  readonly #registries: Array<{ registry: PromRegistryLike, onError: ((err: unknown, name: string) => void) | undefined }> = []

  /** The metrics of filter `name`: the same object on every call (and across reloads). */
  forFilter (name: string): FilterMetrics {
    let f = this.#filters.get(name)
    if (f === undefined) {
      f = new FilterMetrics(name, this)
      this.#filters.set(name, f)
    }
    return f
  }

  /** Every metric, filter by filter, in definition order. */
  snapshot (): ProxyMetricSnapshot[] {
    const out: ProxyMetricSnapshot[] = []
    for (const f of this.#families.values()) {
      for (const m of f.metrics) {
        if (m.type !== 'histogram') {
          out.push({ filter: m.filter, name: m.name, type: m.type, value: m.value })
          continue
        }
        let total = 0
        const buckets = HISTOGRAM_BUCKETS.map((le, i) => ({ le, count: (total += (m.buckets as Float64Array)[i] as number) }))
        out.push({ filter: m.filter, name: m.name, type: m.type, value: m.sum, count: m.count, buckets })
      }
    }
    return out.sort((a, b) => a.filter < b.filter ? -1 : a.filter > b.filter ? 1 : 0)
  }

  /**
   * Exports every family on a prom-client `Registry`, now and as filters define new ones (a
   * family is a collector read at scrape time). `onError` hears of a family the registry
   * refuses (a name the application already registered); it is then left out.
   */
  register (registry: PromRegistryLike, onError?: (err: unknown, name: string) => void): void {
    if (this.#registries.some((r) => r.registry === registry)) return
    const r = { registry, onError }
    this.#registries.push(r)
    for (const f of this.#families.values()) this.#registerFamily(r, f)
  }

  /** Called by FilterMetrics when a metric is defined. */
  added (metric: ProxyMetric): void {
    let base = `wafer_proxy_${metric.name.replace(/[^a-zA-Z0-9_:]/g, '_')}`
    if (metric.type === 'counter' && !base.endsWith('_total')) base += '_total'
    let family = this.#families.get(base)
    if (family !== undefined && family.type !== metric.type) {
      base = `${base}_${metric.type}`
      family = this.#families.get(base)
    }
    if (family === undefined) {
      family = { name: base, type: metric.type, metrics: [] }
      this.#families.set(base, family)
      for (const r of this.#registries) this.#registerFamily(r, family)
    }
    family.metrics.push(metric)
  }

  #registerFamily (r: { registry: PromRegistryLike, onError: ((err: unknown, name: string) => void) | undefined }, f: Family): void {
    try {
      const collector: PromCollector = {
        name: f.name,
        help: helpOf(f),
        type: f.type,
        aggregator: 'sum',
        get: async () => promObject(f),
        // prom-client's resetMetrics(): the guests own these values.
        reset: () => {}
      }
      ;(r.registry.registerMetric as (metric: PromCollector) => void).call(r.registry, collector)
    } catch (err) {
      r.onError?.(err, f.name)
    }
  }
}

function promObject (f: Family): PromMetricObject {
  const values: PromMetricObject['values'] = []
  for (const m of f.metrics) {
    const labels = { filter: m.filter, name: m.name }
    if (m.type !== 'histogram') {
      values.push({ value: m.value, labels })
      continue
    }
    let total = 0
    HISTOGRAM_BUCKETS.forEach((le, i) => {
      total += (m.buckets as Float64Array)[i] as number
      values.push({ value: total, labels: { ...labels, le }, metricName: `${f.name}_bucket` })
    })
    values.push({ value: m.count, labels: { ...labels, le: '+Inf' }, metricName: `${f.name}_bucket` })
    values.push({ value: m.sum, labels, metricName: `${f.name}_sum` })
    values.push({ value: m.count, labels, metricName: `${f.name}_count` })
  }
  return { name: f.name, help: helpOf(f), type: f.type, aggregator: 'sum', values }
}

function helpOf (f: Family): string {
  return `Proxy-Wasm ${f.type} defined by filters with proxy_define_metric (label "name": the name the filter gave it)`
}
