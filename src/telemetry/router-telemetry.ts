/**
 * Turns the InferenceRouter's events into metrics and spans: the breaker-state gauge, attempt
 * counters and errors, the GenAI client metrics of each provider call (duration, token usage), a
 * `continuum.route` span for each routing decision and a CLIENT span `continuum.provider_call`
 * per provider attempt. The router emits its events synchronously in the caller's async context,
 * so the spans nest under whatever span is active there (the request's). A span is paired with
 * its end by the attempt's id, not by the active context: a stream's end is reported from
 * whoever reads it last, outside the request's context. Open spans are bounded, so an end that
 * never comes cannot grow memory.
 */
import type { Span, Tracer } from '@opentelemetry/api'
import type { RouterEvent, RouterOperation } from '../router/events'
import type { GenAiMetrics } from './genai-metrics'
import { BREAKER_STATE_VALUES, type InferenceMetrics } from './inference-metrics'
import type { ModelLabels } from './label-bounds'
import type { OpenTelemetryApi } from './otel-api'

/** Most provider-call spans open at once; past it the oldest is ended as abandoned. */
export const MAX_OPEN_ATTEMPT_SPANS = 10_000

/** The GenAI operation of a router operation. */
const OPERATIONS: Record<RouterOperation, string> = {
  complete: 'chat',
  stream: 'chat',
  embed: 'embeddings',
  count_tokens: 'count_tokens',
}

/** Builds the `onEvent` hook for a router. */
export function routerEventHandler(
  metrics: InferenceMetrics,
  genai: GenAiMetrics,
  modelLabels: ModelLabels,
  api: OpenTelemetryApi | undefined,
  tracer: Tracer | undefined,
): (event: RouterEvent) => void {
  // Insertion order is age order, so the first entry is the oldest.
  const open = new Map<number, Span>()

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
            'gen_ai.operation.name': OPERATIONS[event.operation],
            'gen_ai.provider.name': event.provider,
            'gen_ai.request.model': event.model.slice(0, 128),
            'continuum.router.operation': event.operation,
            'continuum.router.attempt': event.attempt,
          },
        })
        if (open.size >= MAX_OPEN_ATTEMPT_SPANS) {
          const [oldestId, oldest] = open.entries().next().value as [number, Span]
          open.delete(oldestId)
          oldest.setAttribute('error.type', 'abandoned')
          oldest.end()
        }
        open.set(event.attemptId, span)
        return
      }
      case 'attempt-end': {
        // A cancelled attempt was answered: the consumer stopped reading a started stream.
        const model = modelLabels.label(event.model, event.outcome !== 'error')
        metrics.routerAttempts.inc({ provider: event.provider, model, outcome: event.outcome })
        if (event.errorCode !== undefined) {
          metrics.errors.inc({ provider: event.provider, model, error_type: event.errorCode })
        }
        genai.recordClient({
          operation: OPERATIONS[event.operation],
          provider: event.provider,
          model,
          durationSeconds: Math.max(0, event.durationMs) / 1000,
          ...(event.errorCode === undefined ? {} : { errorType: event.errorCode }),
          ...(event.usage === undefined
            ? {}
            : { inputTokens: event.usage.inputTokens, outputTokens: event.usage.outputTokens }),
        })
        const span = open.get(event.attemptId)
        if (span === undefined || api === undefined) return
        open.delete(event.attemptId)
        if (event.usage !== undefined) {
          span.setAttributes({
            'gen_ai.usage.input_tokens': event.usage.inputTokens,
            'gen_ai.usage.output_tokens': event.usage.outputTokens,
          })
        }
        if (event.errorCode !== undefined) {
          span.setAttribute('error.type', event.errorCode)
          span.setStatus({ code: api.SpanStatusCode.ERROR, message: event.errorCode })
        } else if (event.outcome === 'cancelled') span.setAttribute('error.type', 'cancelled')
        span.end()
        return
      }
      default:
        return
    }
  }
}
