/**
 * Turns the InferenceRouter's events into metrics and spans: the breaker-state gauge, attempt
 * counters and errors, a `continuum.route` span for each routing decision and a CLIENT span
 * `continuum.provider_call` per provider attempt. The router emits its events synchronously in the
 * caller's async context, so the spans nest under whatever span is active there (the request's).
 */
import type { Span, Tracer } from '@opentelemetry/api'
import type { RouterEvent } from '../router/events'
import { BREAKER_STATE_VALUES, type InferenceMetrics } from './inference-metrics'
import type { ModelLabels } from './label-bounds'
import type { OpenTelemetryApi } from './otel-api'

/** Builds the `onEvent` hook for a router. */
export function routerEventHandler(
  metrics: InferenceMetrics,
  modelLabels: ModelLabels,
  api: OpenTelemetryApi | undefined,
  tracer: Tracer | undefined,
): (event: RouterEvent) => void {
  // Open attempt spans by attempt key and parent span; attempts of one request never overlap per key.
  const open = new Map<string, Span[]>()
  const keyOf = (event: { operation: string; provider: string; model: string; attempt: number }): string => {
    const parent = api?.trace.getActiveSpan()?.spanContext().spanId ?? ''
    return `${parent}|${event.operation}|${event.provider}|${event.model}|${event.attempt}`
  }

  return (event) => {
    switch (event.type) {
      case 'breaker-state':
        metrics.breakerState.set({ provider: event.provider }, BREAKER_STATE_VALUES[event.to])
        return
      case 'route': {
        if (api === undefined || tracer === undefined) return
        // The decision itself is instantaneous; the attempts that follow are their own spans.
        tracer
          .startSpan('continuum.route', {
            attributes: {
              'gen_ai.request.model': event.model.slice(0, 128),
              'continuum.router.operation': event.operation,
              'continuum.router.policy': event.policy,
              'continuum.router.providers': event.providers,
            },
          })
          .end()
        return
      }
      case 'attempt-start': {
        if (api === undefined || tracer === undefined) return
        const span = tracer.startSpan('continuum.provider_call', {
          kind: api.SpanKind.CLIENT,
          attributes: {
            'gen_ai.provider.name': event.provider,
            'gen_ai.request.model': event.model.slice(0, 128),
            'continuum.router.operation': event.operation,
            'continuum.router.attempt': event.attempt,
          },
        })
        const key = keyOf(event)
        open.set(key, [...(open.get(key) ?? []), span])
        return
      }
      case 'attempt-end': {
        const model = modelLabels.label(event.model)
        metrics.routerAttempts.inc({ provider: event.provider, model, outcome: event.outcome })
        if (event.errorCode !== undefined) {
          metrics.errors.inc({ provider: event.provider, model, error_type: event.errorCode })
        }
        const key = keyOf(event)
        const spans = open.get(key)
        const span = spans?.shift()
        if (spans !== undefined && spans.length === 0) open.delete(key)
        if (span === undefined || api === undefined) return
        if (event.errorCode !== undefined) {
          span.setAttribute('error.type', event.errorCode)
          span.setStatus({ code: api.SpanStatusCode.ERROR, message: event.errorCode })
        }
        span.end()
        return
      }
      default:
        return
    }
  }
}
