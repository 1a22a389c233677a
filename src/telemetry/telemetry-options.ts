/**
 * Options of Telemetry, validated and given their defaults once at construction; the per-request
 * path reads only the resolved values (the tracer, the instruments, the label policy).
 */
import type { MeterProvider, Span, TracerProvider } from '@opentelemetry/api'
import type { Registry } from 'prom-client'
import { type Clock, systemClock } from '../core/clock'
import { type Logger, silentLogger } from '../core/logger'
import { ContinuumError } from '../errors'
import type { Exchange } from '../proxy/exchange'
import { DEFAULT_LATENCY_BUCKETS } from './inference-metrics'
import { isRegistry, promClient } from './prom-client'
import type { ReadinessCheck } from './readiness'

/** Options of {@link Telemetry} and of the proxy's `telemetry` option. */
export interface TelemetryOptions {
  /**
   * Tracing: `true` uses the global tracer provider of `@opentelemetry/api` (no spans are recorded
   * until the application registers one), a TracerProvider uses that one, `false` turns spans off.
   * Without `@opentelemetry/api` installed, `true` quietly turns spans off.
   * @default true
   */
  tracing?: boolean | TracerProvider
  /**
   * OpenTelemetry GenAI metrics (`gen_ai.client.token.usage`, `gen_ai.client.operation.duration`,
   * `gen_ai.server.request.duration`, `gen_ai.server.time_to_first_token`,
   * `gen_ai.server.time_per_output_token`): `true` records them on the global meter provider of
   * `@opentelemetry/api` (nothing is exported until the application registers one), a
   * MeterProvider on that one, `false` records none. The Prometheus histograms of the same names
   * are always kept.
   * @default true
   */
  meterProvider?: boolean | MeterProvider
  /**
   * Adds prom-client's process and Node.js metrics to the registry: CPU, memory, handles, GC and
   * event-loop lag (`nodejs_eventloop_lag_seconds` and its percentiles), under `metricPrefix`.
   * @default false
   */
  processMetrics?: boolean
  /**
   * Where the metrics live.
   * @default a new prom-client Registry of this instance
   */
  registry?: Registry
  /**
   * Path of the Prometheus endpoint (relative to where the proxy is mounted), or `false` to serve
   * none (scrape `registry` yourself).
   * @default '/metrics'
   */
  metricsPath?: string | false
  /**
   * Path of the liveness endpoint, or `false`.
   * @default '/livez'
   */
  livenessPath?: string | false
  /**
   * Path of the readiness endpoint, or `false`.
   * @default '/readyz'
   */
  readinessPath?: string | false
  /**
   * Readiness checks by name, e.g. `{ router: routerReadinessCheck(router), upstream: httpReadinessCheck(url) }`.
   * @default {} (ready while the process runs)
   */
  readiness?: Record<string, ReadinessCheck>
  /**
   * Time each readiness check may take, in milliseconds.
   * @default 2000
   */
  readinessTimeoutMs?: number
  /**
   * The `provider` label and `gen_ai.provider.name`, e.g. `vllm`.
   * @default the adapter's name (`openai`, `anthropic`, `ollama`, `tgi`, `triton`)
   */
  provider?: string
  /**
   * Model names allowed as metric label values; others are counted as `other`.
   * @default undefined (any name once a request for it was served, cut to 64 safe characters, up to `maxModelLabels` of them)
   */
  models?: readonly string[]
  /**
   * Most distinct model label values when `models` is not given; a name takes one only once a
   * request for it was served, so names no server knows cannot use them up.
   * @default 100
   */
  maxModelLabels?: number
  /**
   * Prefix of every metric name, e.g. `continuum_`.
   * @default ''
   */
  metricPrefix?: string
  /**
   * Buckets of `inference_latency_seconds`.
   * @default 5 ms to 300 s
   */
  latencyBuckets?: readonly number[]
  /**
   * Adds attributes to the request span once the request is decrypted. Runs guarded: a throwing hook
   * is logged and ignored. Never put content in attributes.
   * @default undefined
   */
  enrichSpan?: (span: Span, exchange: Exchange) => void
  /**
   * Time source.
   * @default systemClock
   */
  clock?: Clock
  /**
   * Receives content-free operational messages (a throwing hook, a missing OpenTelemetry API).
   * @default silentLogger
   */
  logger?: Logger
}

/** Options after normalisation. */
export interface ResolvedTelemetryOptions {
  readonly tracing: boolean | TracerProvider
  readonly meterProvider: boolean | MeterProvider
  readonly processMetrics: boolean
  readonly registry: Registry
  readonly metricsPath: string | undefined
  readonly livenessPath: string | undefined
  readonly readinessPath: string | undefined
  readonly readiness: Readonly<Record<string, ReadinessCheck>>
  readonly readinessTimeoutMs: number
  readonly provider: string | undefined
  readonly models: readonly string[] | undefined
  readonly maxModelLabels: number
  readonly metricPrefix: string
  readonly latencyBuckets: readonly number[]
  readonly enrichSpan: ((span: Span, exchange: Exchange) => void) | undefined
  readonly clock: Clock
  readonly logger: Logger
}

function invalid(message: string): ContinuumError {
  return new ContinuumError('CONTINUUM_INVALID_OPTIONS', `telemetry: ${message}`)
}

function endpointPath(value: string | false | undefined, fallback: string, name: string): string | undefined {
  if (value === false) return undefined
  const path = value ?? fallback
  if (typeof path !== 'string' || !/^\/[^?#\s]*$/.test(path)) {
    throw invalid(`${name} must be a path starting with "/", or false`)
  }
  return path
}

function positiveInteger(value: number | undefined, fallback: number, name: string): number {
  const resolved = value ?? fallback
  if (!Number.isSafeInteger(resolved) || resolved <= 0) throw invalid(`${name} must be a positive integer`)
  return resolved
}

/** Validates and normalises telemetry options. */
export function resolveTelemetryOptions(options: TelemetryOptions = {}): ResolvedTelemetryOptions {
  if (typeof options !== 'object' || options === null) throw invalid('options must be an object')
  const tracing = options.tracing ?? true
  if (typeof tracing !== 'boolean' && typeof (tracing as TracerProvider).getTracer !== 'function') {
    throw invalid('tracing must be a boolean or a TracerProvider')
  }
  const meterProvider = options.meterProvider ?? true
  if (typeof meterProvider !== 'boolean' && typeof (meterProvider as MeterProvider).getMeter !== 'function') {
    throw invalid('meterProvider must be a boolean or a MeterProvider')
  }
  const processMetrics = options.processMetrics ?? false
  if (typeof processMetrics !== 'boolean') throw invalid('processMetrics must be true or false')
  if (options.registry !== undefined && !isRegistry(options.registry)) {
    throw invalid('registry must be a prom-client Registry')
  }
  const readiness = options.readiness ?? {}
  if (
    typeof readiness !== 'object' ||
    readiness === null ||
    Object.values(readiness).some((check) => typeof check !== 'function')
  ) {
    throw invalid('readiness must map names to check functions')
  }
  if (options.provider !== undefined && (typeof options.provider !== 'string' || options.provider === '')) {
    throw invalid('provider must be a non-empty string')
  }
  if (
    options.models !== undefined &&
    (!Array.isArray(options.models) || options.models.some((model) => typeof model !== 'string'))
  ) {
    throw invalid('models must be a list of model names')
  }
  const metricPrefix = options.metricPrefix ?? ''
  if (typeof metricPrefix !== 'string' || !/^([a-zA-Z_:][a-zA-Z0-9_:]*)?$/.test(metricPrefix)) {
    throw invalid('metricPrefix must be a valid Prometheus metric name prefix')
  }
  const latencyBuckets = options.latencyBuckets ?? DEFAULT_LATENCY_BUCKETS
  if (
    !Array.isArray(latencyBuckets) ||
    latencyBuckets.length === 0 ||
    latencyBuckets.some(
      (bucket, index) => !(bucket > 0) || (index > 0 && bucket <= (latencyBuckets[index - 1] ?? 0)),
    )
  ) {
    throw invalid('latencyBuckets must be increasing positive numbers')
  }
  if (options.enrichSpan !== undefined && typeof options.enrichSpan !== 'function') {
    throw invalid('enrichSpan must be a function')
  }
  return {
    tracing,
    meterProvider,
    processMetrics,
    registry: options.registry ?? new (promClient().Registry)(),
    metricsPath: endpointPath(options.metricsPath, '/metrics', 'metricsPath'),
    livenessPath: endpointPath(options.livenessPath, '/livez', 'livenessPath'),
    readinessPath: endpointPath(options.readinessPath, '/readyz', 'readinessPath'),
    readiness: { ...readiness },
    readinessTimeoutMs: positiveInteger(options.readinessTimeoutMs, 2000, 'readinessTimeoutMs'),
    provider: options.provider,
    models: options.models,
    maxModelLabels: positiveInteger(options.maxModelLabels, 100, 'maxModelLabels'),
    metricPrefix,
    latencyBuckets,
    enrichSpan: options.enrichSpan,
    clock: options.clock ?? systemClock,
    logger: options.logger ?? silentLogger,
  }
}
