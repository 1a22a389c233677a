/**
 * The telemetry of one exchange: the SERVER span named `{operation} {model}` with GenAI attributes,
 * a child span per pipeline phase (`continuum.decrypt`, `continuum.scan`, `continuum.upstream` as a
 * CLIENT span, `continuum.encrypt`, which for a stream lasts until the stream ends), and the metrics
 * recorded when it ends. Spans carry names, ids, counts and codes only: the request body is read for
 * its model and numeric parameters, responses for ids, finish reasons and token counts.
 */
import type { Attributes, Context, Span, Tracer } from '@opentelemetry/api'
import type { CoreRequest } from '../core/http'
import { ContinuumError } from '../errors'
import type { RouteMatch } from '../protocol/registry'
import { scannerAnnotationOf } from '../proxy/scan-annotation'
import type {
  Exchange,
  ExchangeObservation,
  ExchangeOutcome,
  ExchangePhase,
  ExchangePhaseEnd,
} from '../proxy/stage'
import {
  operationOf,
  type RequestFacts,
  type ResponseFacts,
  readRequestFacts,
  readResponseFacts,
} from './genai'
import type { InferenceMetrics } from './inference-metrics'
import type { ModelLabels } from './label-bounds'
import type { OpenTelemetryApi } from './otel-api'
import type { ResolvedTelemetryOptions } from './telemetry-options'

/** What every exchange observation shares, built once per Telemetry. */
export interface ExchangeTelemetryContext {
  readonly options: ResolvedTelemetryOptions
  readonly api: OpenTelemetryApi | undefined
  readonly tracer: Tracer | undefined
  readonly metrics: InferenceMetrics
  readonly modelLabels: ModelLabels
}

const PHASE_SPANS: Record<Exclude<ExchangePhase, 'stage'>, string> = {
  decrypt: 'continuum.decrypt',
  upstream: 'continuum.upstream',
  encrypt: 'continuum.encrypt',
}

/** The error type of a failure: its stable code, or the name of a foreign error class. */
export function errorTypeOf(error: unknown): string {
  if (ContinuumError.isInstance(error)) return error.code
  return error instanceof Error ? error.name : 'Error'
}

function outcomeOf(outcome: ExchangeOutcome): 'success' | 'blocked' | 'cancelled' | 'error' {
  if (outcome.errorCode === 'CONTINUUM_PROMPT_INJECTION_BLOCKED') return 'blocked'
  if (outcome.errorCode === 'CONTINUUM_CLIENT_ABORTED') return 'cancelled'
  return outcome.errorCode === undefined && outcome.status < 400 ? 'success' : 'error'
}

/** Starts the observation of one exchange. */
export function observeExchange(
  shared: ExchangeTelemetryContext,
  request: CoreRequest,
  match: RouteMatch,
): ExchangeObservation {
  const { options, api, tracer, metrics, modelLabels } = shared
  const startedAt = options.clock.now()
  const operation = operationOf(match.route)
  const provider = options.provider ?? match.route.adapter
  const routeLabel = `${match.route.adapter}.${match.route.name}`
  const response: ResponseFacts = { finishReasons: [] }
  let requestFacts: RequestFacts | undefined
  let exchange: Exchange | undefined
  let span: Span | undefined
  let spanContext: Context | undefined
  let upstreamContext: Context | undefined
  let ended = false

  if (api !== undefined && tracer !== undefined) {
    const parent = api.propagation.extract(api.context.active(), request.headers)
    span = tracer.startSpan(
      operation,
      {
        kind: api.SpanKind.SERVER,
        attributes: {
          'gen_ai.operation.name': operation,
          'gen_ai.provider.name': provider,
          'gen_ai.system': provider,
          'http.request.method': request.method,
          'continuum.route': routeLabel,
        },
      },
      parent,
    )
    spanContext = api.trace.setSpan(parent, span)
  }

  function failSpan(target: Span, error: unknown): void {
    const type = errorTypeOf(error)
    target.setAttribute('error.type', type)
    // ContinuumError messages are content-free by contract; other errors are named by type only.
    target.recordException({ name: type, message: ContinuumError.isInstance(error) ? error.message : type })
    target.setStatus({ code: api!.SpanStatusCode.ERROR, message: type })
  }

  return {
    phase(phase, stage) {
      if (span === undefined || api === undefined || tracer === undefined) return () => {}
      const name =
        phase === 'stage'
          ? stage === 'scanner'
            ? 'continuum.scan'
            : `continuum.stage ${stage ?? ''}`
          : PHASE_SPANS[phase]
      const child = tracer.startSpan(
        name,
        { kind: phase === 'upstream' ? api.SpanKind.CLIENT : api.SpanKind.INTERNAL },
        spanContext,
      )
      if (phase === 'upstream') upstreamContext = api.trace.setSpan(spanContext!, child)
      const end: ExchangePhaseEnd = (error) => {
        if (phase === 'stage' && stage === 'scanner' && exchange !== undefined) {
          const scan = scannerAnnotationOf(exchange)
          if (scan !== undefined) {
            child.setAttributes({
              'continuum.scan.action': scan.action,
              'continuum.scan.risk': scan.risk,
              'continuum.scan.score': scan.score,
            })
          }
        }
        if (error !== undefined) failSpan(child, error)
        child.end()
      }
      return end
    },

    within(run) {
      const active = upstreamContext ?? spanContext
      return api === undefined || active === undefined ? run() : api.context.with(active, run)
    },

    accepted(accepted) {
      exchange = accepted
      requestFacts = readRequestFacts(accepted.body, accepted.match.params)
      if (span === undefined) return
      const attributes: Attributes = {
        'continuum.encrypted': accepted.encrypted,
        'continuum.request_id': accepted.requestId.slice(0, 128),
        'continuum.streaming': accepted.streaming,
      }
      if (accepted.keyId !== undefined) attributes['continuum.key_id'] = accepted.keyId
      if (requestFacts.model !== undefined) {
        attributes['gen_ai.request.model'] = requestFacts.model
        span.updateName(`${operation} ${requestFacts.model}`)
      }
      if (requestFacts.maxTokens !== undefined)
        attributes['gen_ai.request.max_tokens'] = requestFacts.maxTokens
      if (requestFacts.temperature !== undefined) {
        attributes['gen_ai.request.temperature'] = requestFacts.temperature
      }
      span.setAttributes(attributes)
      if (options.enrichSpan !== undefined) {
        try {
          options.enrichSpan(span, accepted)
        } catch {
          options.logger.warn('telemetry enrichSpan hook threw; ignored')
        }
      }
    },

    upstreamEvent(event) {
      readResponseFacts(response, event)
    },

    end(outcome) {
      if (ended) return
      ended = true
      const result = outcomeOf(outcome)
      const model = modelLabels.label(requestFacts?.model ?? response.model)
      metrics.requests.inc({
        provider,
        model,
        route: routeLabel,
        status: String(outcome.status),
        outcome: result,
      })
      metrics.latency.observe({ provider, model }, Math.max(0, outcome.endedAt - startedAt) / 1000)
      const errorType = outcome.errorCode ?? (outcome.status >= 400 ? String(outcome.status) : undefined)
      if (errorType !== undefined) metrics.errors.inc({ provider, model, error_type: errorType })
      if (response.inputTokens !== undefined) {
        metrics.tokens.inc({ provider, model, direction: 'input' }, response.inputTokens)
      }
      if (response.outputTokens !== undefined) {
        metrics.tokens.inc({ provider, model, direction: 'output' }, response.outputTokens)
      }
      const scan = exchange === undefined ? undefined : scannerAnnotationOf(exchange)
      if (scan !== undefined && scan.action !== 'allow') {
        metrics.scannerDetections.inc({ risk: scan.risk, action: scan.action })
      }
      if (span === undefined || api === undefined) return
      const attributes: Attributes = { 'http.response.status_code': outcome.status }
      if (response.id !== undefined) attributes['gen_ai.response.id'] = response.id
      if (response.model !== undefined) attributes['gen_ai.response.model'] = response.model
      if (response.finishReasons.length > 0)
        attributes['gen_ai.response.finish_reasons'] = response.finishReasons
      if (response.inputTokens !== undefined) attributes['gen_ai.usage.input_tokens'] = response.inputTokens
      if (response.outputTokens !== undefined)
        attributes['gen_ai.usage.output_tokens'] = response.outputTokens
      if (errorType !== undefined) attributes['error.type'] = errorType
      span.setAttributes(attributes)
      // Server spans: a 4xx is the client's doing and leaves the status unset (HTTP semantic conventions).
      if (outcome.status >= 500 || (outcome.errorCode !== undefined && outcome.status < 400)) {
        span.setStatus({ code: api.SpanStatusCode.ERROR, message: errorType })
      }
      span.end()
    },
  }
}
