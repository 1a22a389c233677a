/**
 * The telemetry of one exchange: the SERVER span named `{operation} {model}` with GenAI attributes,
 * the `continuum.upstream` CLIENT span around the upstream call (the active context while it runs,
 * so the router's provider-call spans nest under it), child spans of the other pipeline phases
 * (`continuum.decrypt`, `continuum.scan` or `continuum.stage {name}`, `continuum.encrypt`, which for
 * a stream lasts until it ends) drawn from the pipeline's timings, and the metrics recorded when
 * the exchange ends. Spans carry names, ids, counts and codes only.
 */
import type { Attributes, Context, Span, Tracer } from '@opentelemetry/api'
import { ContinuumError } from '../errors'
import { cacheAnnotationOf, scannerAnnotationOf } from '../proxy/annotations'
import type {
  Exchange,
  ExchangeOutcome,
  ExchangeResponse,
  PhaseTiming,
  ReceivedExchange,
} from '../proxy/exchange'
import type { Next } from '../proxy/stage'
import type { GenAiMetrics, ServerMeasurement } from './genai-metrics'
import type { InferenceMetrics } from './inference-metrics'
import type { ModelLabels } from './label-bounds'
import type { OpenTelemetryApi } from './otel-api'
import type { ResolvedTelemetryOptions } from './telemetry-options'

/** What every exchange shares, built once per Telemetry. */
export interface ExchangeTelemetryContext {
  readonly options: ResolvedTelemetryOptions
  readonly api: OpenTelemetryApi | undefined
  readonly tracer: Tracer | undefined
  readonly metrics: InferenceMetrics
  readonly genai: GenAiMetrics
  readonly modelLabels: ModelLabels
  /** Whether a router reports to this telemetry (it then measures the provider calls). */
  readonly routed: boolean
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

/** The server span of each exchange, for its upstream span. */
const serverContexts = new WeakMap<ReceivedExchange, Context>()

function phaseSpanName(timing: PhaseTiming): string {
  if (timing.phase === 'stage')
    return timing.stage === 'scanner' ? 'continuum.scan' : `continuum.stage ${timing.stage ?? ''}`
  return `continuum.${timing.phase}`
}

/** The `wrapExchange` hook: the server span and the metrics of one exchange. */
export function observeExchange(
  shared: ExchangeTelemetryContext,
  exchange: ReceivedExchange,
  next: Next,
): Promise<ExchangeResponse> {
  const { options, api, tracer } = shared
  const { request, route: match } = exchange
  let span: Span | undefined
  let spanContext: Context | undefined
  if (api !== undefined && tracer !== undefined) {
    const parent = api.propagation.extract(api.context.active(), request.headers)
    const operation = match.route.operation
    span = tracer.startSpan(
      operation,
      {
        kind: api.SpanKind.SERVER,
        startTime: exchange.startedAt,
        attributes: {
          'gen_ai.operation.name': operation,
          'gen_ai.provider.name': options.provider ?? match.route.adapter,
          'gen_ai.system': options.provider ?? match.route.adapter,
          'http.request.method': request.method,
          'continuum.route': `${match.route.adapter}.${match.route.name}`,
        },
      },
      parent,
    )
    spanContext = api.trace.setSpan(parent, span)
    serverContexts.set(exchange, spanContext)
  }
  exchange.onEnd((outcome) => {
    recordMetrics(shared, exchange, outcome)
    if (span !== undefined && spanContext !== undefined)
      endServerSpan(shared, span, spanContext, exchange, outcome)
  })
  return api === undefined || spanContext === undefined ? next() : api.context.with(spanContext, next)
}

/** The `wrapUpstream` hook: the upstream CLIENT span, active while the upstream call runs. */
export async function observeUpstream(
  shared: ExchangeTelemetryContext,
  exchange: Exchange,
  next: Next,
): Promise<ExchangeResponse> {
  const { api, tracer } = shared
  const parent = serverContexts.get(exchange)
  if (api === undefined || tracer === undefined || parent === undefined) return next()
  const span = tracer.startSpan('continuum.upstream', { kind: api.SpanKind.CLIENT }, parent)
  try {
    const response = await api.context.with(api.trace.setSpan(parent, span), next)
    span.setAttribute('http.response.status_code', response.status)
    return response
  } catch (error) {
    failSpan(api, span, errorTypeOf(error), error)
    throw error
  } finally {
    span.end()
  }
}

function failSpan(api: OpenTelemetryApi, target: Span, type: string, error?: unknown): void {
  target.setAttribute('error.type', type)
  // ContinuumError messages are content-free by contract; other errors are named by type only.
  target.recordException({ name: type, message: ContinuumError.isInstance(error) ? error.message : type })
  target.setStatus({ code: api.SpanStatusCode.ERROR, message: type })
}

function recordMetrics(
  shared: ExchangeTelemetryContext,
  exchange: ReceivedExchange,
  outcome: ExchangeOutcome,
): void {
  const { options, metrics, modelLabels } = shared
  const match = exchange.route
  const provider = options.provider ?? match.route.adapter
  // Served: the upstream answered the model (a stream cut later was still answered).
  const model = modelLabels.label(outcome.request?.model ?? outcome.response.model, outcome.status < 400)
  metrics.requests.inc({
    provider,
    model,
    route: `${match.route.adapter}.${match.route.name}`,
    status: String(outcome.status),
    outcome: outcomeOf(outcome),
  })
  metrics.latency.observe({ provider, model }, Math.max(0, outcome.endedAt - exchange.startedAt) / 1000)
  const errorType = outcome.errorCode ?? (outcome.status >= 400 ? String(outcome.status) : undefined)
  if (errorType !== undefined) metrics.errors.inc({ provider, model, error_type: errorType })
  const { inputTokens, outputTokens } = outcome.response
  if (inputTokens !== undefined) metrics.tokens.inc({ provider, model, direction: 'input' }, inputTokens)
  if (outputTokens !== undefined) metrics.tokens.inc({ provider, model, direction: 'output' }, outputTokens)
  const scan = scannerAnnotationOf(exchange)
  if (scan !== undefined && scan.action !== 'allow') {
    metrics.scannerDetections.inc({ risk: scan.risk, action: scan.action })
  }
  const cache = cacheAnnotationOf(exchange)
  if (cache === 'hit' || cache === 'miss') metrics.cacheRequests.inc({ result: cache })
  recordGenAi(shared, exchange, outcome, { provider, model, errorType })
}

/** The GenAI server metrics of an exchange, and its client metrics when no router measures them. */
function recordGenAi(
  shared: ExchangeTelemetryContext,
  exchange: ReceivedExchange,
  outcome: ExchangeOutcome,
  labels: { provider: string; model: string; errorType: string | undefined },
): void {
  // Refusals before the request was read (a bad key, a bad path) are no GenAI operation.
  if (outcome.request === undefined) return
  const operation = exchange.route.route.operation
  const common = {
    operation,
    provider: labels.provider,
    model: labels.model,
    ...(labels.errorType === undefined ? {} : { errorType: labels.errorType }),
  }
  const firstEvent = outcome.timings.find((timing) => timing.phase === 'first-event')?.start
  const measurement: ServerMeasurement = {
    ...common,
    durationSeconds: Math.max(0, outcome.endedAt - exchange.startedAt) / 1000,
  }
  const outputTokens = outcome.response.outputTokens
  if (firstEvent !== undefined) {
    measurement.timeToFirstTokenSeconds = Math.max(0, firstEvent - exchange.startedAt) / 1000
    if (outputTokens !== undefined && outputTokens > 1 && labels.errorType === undefined) {
      measurement.timePerOutputTokenSeconds =
        Math.max(0, outcome.endedAt - firstEvent) / 1000 / (outputTokens - 1)
    }
  }
  shared.genai.recordServer(measurement)
  if (shared.routed) return
  const upstream = outcome.timings.find((timing) => timing.phase === 'upstream')
  if (upstream === undefined) return
  const { inputTokens } = outcome.response
  shared.genai.recordClient({
    ...common,
    // The proxy's call to its upstream lasts until the answer's last byte.
    durationSeconds: Math.max(0, outcome.endedAt - upstream.start) / 1000,
    ...(inputTokens === undefined ? {} : { inputTokens }),
    ...(outputTokens === undefined ? {} : { outputTokens }),
  })
}

function endServerSpan(
  shared: ExchangeTelemetryContext,
  span: Span,
  spanContext: Context,
  exchange: ReceivedExchange,
  outcome: ExchangeOutcome,
): void {
  const api = shared.api!
  const tracer = shared.tracer!
  for (const timing of outcome.timings) {
    // The upstream span was live; the others are drawn from the pipeline's timings (the first
    // event is an instant, read by the time-to-first-token metrics).
    if (timing.phase === 'upstream' || timing.phase === 'first-event') continue
    const child = tracer.startSpan(
      phaseSpanName(timing),
      { kind: api.SpanKind.INTERNAL, startTime: timing.start },
      spanContext,
    )
    const scan =
      timing.phase === 'stage' && timing.stage === 'scanner' ? scannerAnnotationOf(exchange) : undefined
    if (scan !== undefined) {
      child.setAttributes({
        'continuum.scan.action': scan.action,
        'continuum.scan.risk': scan.risk,
        'continuum.scan.score': scan.score,
      })
    }
    if (timing.errorCode !== undefined) failSpan(api, child, timing.errorCode)
    child.end(Number.isNaN(timing.end) ? outcome.endedAt : timing.end)
  }
  const attributes: Attributes = { 'http.response.status_code': outcome.status }
  if (exchange.body !== undefined) {
    attributes['continuum.encrypted'] = exchange.encrypted
    attributes['continuum.request_id'] = exchange.requestId.slice(0, 128)
    attributes['continuum.streaming'] = exchange.streaming
    if (exchange.keyId !== undefined) attributes['continuum.key_id'] = exchange.keyId
  }
  const requested = outcome.request
  if (requested?.model !== undefined) {
    attributes['gen_ai.request.model'] = requested.model
    span.updateName(`${exchange.route.route.operation} ${requested.model}`)
  }
  if (requested?.maxTokens !== undefined) attributes['gen_ai.request.max_tokens'] = requested.maxTokens
  if (requested?.temperature !== undefined) attributes['gen_ai.request.temperature'] = requested.temperature
  const response = outcome.response
  if (response.id !== undefined) attributes['gen_ai.response.id'] = response.id
  if (response.model !== undefined) attributes['gen_ai.response.model'] = response.model
  if (response.finishReasons.length > 0) attributes['gen_ai.response.finish_reasons'] = response.finishReasons
  if (response.inputTokens !== undefined) attributes['gen_ai.usage.input_tokens'] = response.inputTokens
  if (response.outputTokens !== undefined) attributes['gen_ai.usage.output_tokens'] = response.outputTokens
  const errorType = outcome.errorCode ?? (outcome.status >= 400 ? String(outcome.status) : undefined)
  if (errorType !== undefined) attributes['error.type'] = errorType
  span.setAttributes(attributes)
  const enrich = shared.options.enrichSpan
  if (enrich !== undefined && exchange.body !== undefined) {
    try {
      enrich(span, exchange as Exchange)
    } catch {
      shared.options.logger.warn({}, 'telemetry enrichSpan hook threw; ignored')
    }
  }
  // Server spans: a 4xx is the client's doing and leaves the status unset (HTTP semantic conventions).
  if (outcome.status >= 500 || (outcome.errorCode !== undefined && outcome.status < 400)) {
    span.setStatus({ code: api.SpanStatusCode.ERROR, message: errorType })
  }
  span.end(outcome.endedAt)
}
