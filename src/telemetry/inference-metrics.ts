/**
 * The Prometheus metrics of the proxy, on a registry of their own (never prom-client's global one,
 * so two proxies, or the application's own metrics, never collide). Names follow the issue:
 * requests, latency, errors and tokens per provider and model, scanner detections, circuit-breaker
 * state per provider, router attempts, and encrypted-cache lookups. Label values are ids, codes and
 * bounded model names; never request content.
 */
import type { Counter, Gauge, Histogram, Registry } from 'prom-client'
import { promClient } from './prom-client'

/** Breaker states as gauge values: 0 closed, 1 half-open, 2 open. */
export const BREAKER_STATE_VALUES = { closed: 0, 'half-open': 1, open: 2 } as const

/** Latency buckets in seconds: from a cached embedding to a long generation. */
export const DEFAULT_LATENCY_BUCKETS: readonly number[] = [
  0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300,
]

/** Options of {@link InferenceMetrics}. */
export interface InferenceMetricsOptions {
  registry: Registry
  /** Prefix of every metric name, e.g. `continuum_`. */
  prefix: string
  latencyBuckets: readonly number[]
}

/** The metric instruments. */
export class InferenceMetrics {
  readonly registry: Registry
  readonly requests: Counter<'provider' | 'model' | 'route' | 'status' | 'outcome'>
  readonly latency: Histogram<'provider' | 'model'>
  readonly errors: Counter<'provider' | 'model' | 'error_type'>
  readonly tokens: Counter<'provider' | 'model' | 'direction'>
  readonly scannerDetections: Counter<'risk' | 'action'>
  readonly breakerState: Gauge<'provider'>
  readonly routerAttempts: Counter<'provider' | 'model' | 'outcome'>
  readonly cacheRequests: Counter<'result'>
  readonly storeFailures: Counter<'consumer' | 'decision'>

  constructor(options: InferenceMetricsOptions) {
    const { registry, prefix } = options
    const prom = promClient()
    this.registry = registry
    const registers = [registry]
    this.requests = new prom.Counter({
      name: `${prefix}inference_requests_total`,
      help: 'Inference requests served, by provider, model, route, HTTP status and outcome.',
      labelNames: ['provider', 'model', 'route', 'status', 'outcome'],
      registers,
    })
    this.latency = new prom.Histogram({
      name: `${prefix}inference_latency_seconds`,
      help: 'Time from request arrival to the last response byte (streams included), in seconds.',
      labelNames: ['provider', 'model'],
      buckets: [...options.latencyBuckets],
      registers,
    })
    this.errors = new prom.Counter({
      name: `${prefix}inference_errors_total`,
      help: 'Failed inference requests, by error type (a CONTINUUM_* code, or the upstream HTTP status).',
      labelNames: ['provider', 'model', 'error_type'],
      registers,
    })
    this.tokens = new prom.Counter({
      name: `${prefix}inference_tokens_total`,
      help: 'Tokens reported by the upstream, by direction (input or output).',
      labelNames: ['provider', 'model', 'direction'],
      registers,
    })
    this.scannerDetections = new prom.Counter({
      name: `${prefix}scanner_detections_total`,
      help: 'Requests the prompt scanner rated at or above its threshold, by risk and action taken.',
      labelNames: ['risk', 'action'],
      registers,
    })
    this.breakerState = new prom.Gauge({
      name: `${prefix}circuit_breaker_state`,
      help: 'Circuit-breaker state per provider: 0 closed, 1 half-open, 2 open.',
      labelNames: ['provider'],
      registers,
    })
    this.routerAttempts = new prom.Counter({
      name: `${prefix}router_attempts_total`,
      help: 'Provider attempts made by the InferenceRouter, by outcome (success or error).',
      labelNames: ['provider', 'model', 'outcome'],
      registers,
    })
    this.cacheRequests = new prom.Counter({
      name: `${prefix}cache_requests_total`,
      help: 'Encrypted response cache lookups, by result (hit or miss).',
      labelNames: ['result'],
      registers,
    })
    this.storeFailures = new prom.Counter({
      name: `${prefix}store_failures_total`,
      help: 'Shared state store calls that failed, by feature and decision (open: went on without it; closed: refused).',
      labelNames: ['consumer', 'decision'],
      registers,
    })
  }
}
