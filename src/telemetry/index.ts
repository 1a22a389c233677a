/** Telemetry surface: OpenTelemetry spans, Prometheus metrics, liveness and readiness endpoints. */
export { errorTypeOf } from './exchange-telemetry'
export { BREAKER_STATE_VALUES, DEFAULT_LATENCY_BUCKETS, InferenceMetrics } from './inference-metrics'
export {
  type HttpReadinessCheckOptions,
  httpReadinessCheck,
  type ReadinessCheck,
  type ReadinessReport,
  type ReadinessResult,
  type RouterHealthSource,
  routerReadinessCheck,
  runReadinessChecks,
} from './readiness'
export { INSTRUMENTATION_NAME, INSTRUMENTATION_VERSION, Telemetry } from './telemetry'
export { livenessHandler, metricsHandler, readinessHandler } from './telemetry-handlers'
export type { TelemetryOptions } from './telemetry-options'
