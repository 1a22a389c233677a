/**
 * Telemetry: OpenTelemetry spans and Prometheus metrics for the proxy, and its liveness and
 * readiness endpoints. One instance is a ProxyStage (it wraps every exchange and its upstream
 * call, and serves the metrics, livez and readyz endpoints) and an `onRouterEvent` hook for an
 * InferenceRouter, all sharing one registry: `continuum({ stages: [telemetry], router })` with
 * `new InferenceRouter({ onEvent: telemetry.onRouterEvent })`.
 */
import diagnosticsChannel from 'node:diagnostics_channel'
import type { Meter, Tracer } from '@opentelemetry/api'
import type { Registry } from 'prom-client'
import { type CoreHandler, chainHandlers } from '../core/http'
import { ContinuumError } from '../errors'
import { brand } from '../internal/brand'
import type { Exchange, ExchangeResponse, ReceivedExchange } from '../proxy/exchange'
import type { Next, ProxyStage } from '../proxy/stage'
import type { RouterEvent } from '../router/events'
import { STORE_DIAGNOSTICS_CHANNEL, type StoreFailureEvent } from '../stores/store-failure'
import { type ExchangeTelemetryContext, observeExchange, observeUpstream } from './exchange-telemetry'
import { GenAiMetrics } from './genai-metrics'
import { InferenceMetrics } from './inference-metrics'
import { ModelLabels } from './label-bounds'
import { loadOpenTelemetryApi, type OpenTelemetryApi } from './otel-api'
import { promClient } from './prom-client'
import { routerEventHandler } from './router-telemetry'
import { livenessHandler, metricsHandler, readinessHandler } from './telemetry-handlers'
import {
  type ResolvedTelemetryOptions,
  resolveTelemetryOptions,
  type TelemetryOptions,
} from './telemetry-options'

/** Name of the instrumentation scope of every span. */
export const INSTRUMENTATION_NAME = 'continuum-proxy'
/** Version of the instrumentation scope; the package version. */
export const INSTRUMENTATION_VERSION = '0.1.0'

/** Spans, metrics and health endpoints of the proxy. */
export class Telemetry implements ProxyStage {
  readonly name = 'telemetry'
  /** The metric instruments, e.g. to record cache lookups or add your own metrics to `registry`. */
  readonly metrics: InferenceMetrics
  /** The metrics, served at `metricsPath` or scraped by your own endpoint. */
  readonly registry: Registry
  /** The metrics, livez and readyz endpoints chained; resolves `undefined` for any other request. */
  readonly handler: CoreHandler
  /**
   * The InferenceRouter hook: pass it as `onEvent` (or call it from yours) for breaker-state and
   * attempt metrics and the router's spans.
   */
  readonly onRouterEvent: (event: RouterEvent) => void
  readonly #shared: ExchangeTelemetryContext

  constructor(options: TelemetryOptions = {}) {
    const resolved = resolveTelemetryOptions(options)
    const api =
      resolved.tracing === false && resolved.meterProvider === false ? undefined : loadOpenTelemetryApi()
    if (
      (typeof resolved.tracing === 'object' || typeof resolved.meterProvider === 'object') &&
      api === undefined
    ) {
      throw new ContinuumError(
        'CONTINUUM_INVALID_OPTIONS',
        'telemetry: a tracer or meter provider was given but @opentelemetry/api cannot be loaded',
      )
    }
    if (resolved.tracing === true && api === undefined) {
      resolved.logger.info({}, '@opentelemetry/api is not installed; spans are off, metrics stay on')
    }
    const tracer = api === undefined || resolved.tracing === false ? undefined : tracerOf(resolved, api)
    this.registry = resolved.registry
    this.metrics = new InferenceMetrics({
      registry: resolved.registry,
      prefix: resolved.metricPrefix,
      latencyBuckets: resolved.latencyBuckets,
    })
    const genai = new GenAiMetrics(resolved.registry, resolved.metricPrefix, meterOf(resolved, api))
    if (resolved.processMetrics) {
      promClient().collectDefaultMetrics({ register: resolved.registry, prefix: resolved.metricPrefix })
    }
    const modelLabels = new ModelLabels({ models: resolved.models, maxModels: resolved.maxModelLabels })
    const shared = {
      options: resolved,
      // Spans need the API and a tracer; metrics alone may load the API with tracing off.
      api: tracer === undefined ? undefined : api,
      tracer,
      metrics: this.metrics,
      genai,
      modelLabels,
      routed: false,
    }
    this.#shared = shared
    this.handler = chainHandlers(...endpoints(resolved))
    countStoreFailures(this.metrics)
    const onEvent = routerEventHandler(this.metrics, genai, modelLabels, shared.api, tracer)
    this.onRouterEvent = (event) => {
      // With a router reporting, provider calls are measured at the router, not per exchange.
      shared.routed = true
      try {
        onEvent(event)
      } catch {
        resolved.logger.warn({ event: event.type }, 'telemetry router event failed; ignored')
      }
    }
  }

  /** Stage hook: the server span and the metrics of one exchange. */
  wrapExchange(exchange: ReceivedExchange, next: Next): Promise<ExchangeResponse> {
    return observeExchange(this.#shared, exchange, next)
  }

  /** Stage hook: the upstream span, the active context while the upstream call runs. */
  wrapUpstream(exchange: Exchange, next: Next): Promise<ExchangeResponse> {
    return observeUpstream(this.#shared, exchange, next)
  }
}

brand(Telemetry.prototype, 'Telemetry')

/** Counts the `continuum:store` failures; the listener lets go once the metrics are collected. */
function countStoreFailures(metrics: InferenceMetrics): void {
  const reference = new WeakRef(metrics)
  const listener = (message: unknown): void => {
    const target = reference.deref()
    if (target === undefined) {
      diagnosticsChannel.unsubscribe(STORE_DIAGNOSTICS_CHANNEL, listener)
      return
    }
    const event = message as StoreFailureEvent
    target.storeFailures.inc({ consumer: event.consumer, decision: event.decision })
  }
  diagnosticsChannel.subscribe(STORE_DIAGNOSTICS_CHANNEL, listener)
}

function tracerOf(options: ResolvedTelemetryOptions, api: OpenTelemetryApi): Tracer {
  const provider = typeof options.tracing === 'object' ? options.tracing : api.trace
  return provider.getTracer(INSTRUMENTATION_NAME, INSTRUMENTATION_VERSION)
}

function meterOf(options: ResolvedTelemetryOptions, api: OpenTelemetryApi | undefined): Meter | undefined {
  if (options.meterProvider === false || api === undefined) return undefined
  const provider = typeof options.meterProvider === 'object' ? options.meterProvider : api.metrics
  return provider.getMeter(INSTRUMENTATION_NAME, INSTRUMENTATION_VERSION)
}

function endpoints(options: ResolvedTelemetryOptions): CoreHandler[] {
  const handlers: CoreHandler[] = []
  if (options.metricsPath !== undefined) handlers.push(metricsHandler(options.registry, options.metricsPath))
  if (options.livenessPath !== undefined) handlers.push(livenessHandler(options.livenessPath))
  if (options.readinessPath !== undefined) {
    handlers.push(readinessHandler(options.readinessPath, options.readiness, options.readinessTimeoutMs))
  }
  return handlers
}
