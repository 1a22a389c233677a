/**
 * The OpenTelemetry GenAI metrics, as the semantic conventions name them, recorded twice: on the
 * OpenTelemetry meter (`gen_ai.client.token.usage`, `gen_ai.client.operation.duration`,
 * `gen_ai.server.request.duration`, `gen_ai.server.time_to_first_token`,
 * `gen_ai.server.time_per_output_token`), and as the Prometheus histograms those names translate
 * to (`gen_ai_client_token_usage`, `gen_ai_server_time_to_first_token_seconds`, ...), with the
 * conventions' bucket boundaries, so users can chart either. Server metrics describe the exchanges
 * the proxy serves, client metrics the calls it makes to providers. Label values are operation
 * names, provider ids, bounded model names and error codes; never content.
 * @see https://opentelemetry.io/docs/specs/semconv/gen-ai/gen-ai-metrics/
 */
import type { Attributes, Meter, Histogram as OtelHistogram } from '@opentelemetry/api'
import type { Histogram, Registry } from 'prom-client'
import { promClient } from './prom-client'

/** Bucket boundaries the conventions advise, by instrument. */
export const GENAI_BUCKETS = {
  tokens: [1, 4, 16, 64, 256, 1024, 4096, 16384, 65536, 262144, 1048576, 4194304, 16777216, 67108864],
  duration: [0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12, 10.24, 20.48, 40.96, 81.92],
  timeToFirstToken: [0.001, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10],
  timePerOutputToken: [0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.75, 1, 2.5],
} as const

type Labels = 'gen_ai_operation_name' | 'gen_ai_provider_name' | 'gen_ai_request_model'

/** Who did what to which model, and how it failed. */
export interface GenAiLabels {
  operation: string
  provider: string
  /** Already bounded by the model label policy. */
  model: string
  /** The error code (or HTTP status) of a failure. */
  errorType?: string
}

/** One finished exchange, seen as the server. */
export interface ServerMeasurement extends GenAiLabels {
  durationSeconds: number
  /** For a stream: time to its first event. */
  timeToFirstTokenSeconds?: number
  /** For a stream of more than one output token: time per output token after the first. */
  timePerOutputTokenSeconds?: number
}

/** One finished provider call, seen as the client. */
export interface ClientMeasurement extends GenAiLabels {
  durationSeconds: number
  inputTokens?: number
  outputTokens?: number
}

/** The instruments of one Telemetry. */
export class GenAiMetrics {
  readonly #tokenUsage: Histogram<Labels | 'gen_ai_token_type'>
  readonly #clientDuration: Histogram<Labels | 'error_type'>
  readonly #serverDuration: Histogram<Labels | 'error_type'>
  readonly #timeToFirstToken: Histogram<Labels>
  readonly #timePerOutputToken: Histogram<Labels>
  readonly #otel:
    | {
        tokenUsage: OtelHistogram
        clientDuration: OtelHistogram
        serverDuration: OtelHistogram
        timeToFirstToken: OtelHistogram
        timePerOutputToken: OtelHistogram
      }
    | undefined

  constructor(registry: Registry, prefix: string, meter: Meter | undefined) {
    const prom = promClient()
    const registers = [registry]
    const labelNames = ['gen_ai_operation_name', 'gen_ai_provider_name', 'gen_ai_request_model'] as const
    this.#tokenUsage = new prom.Histogram({
      name: `${prefix}gen_ai_client_token_usage`,
      help: 'Tokens used per provider call, by token type (input or output).',
      labelNames: [...labelNames, 'gen_ai_token_type'],
      buckets: [...GENAI_BUCKETS.tokens],
      registers,
    })
    this.#clientDuration = new prom.Histogram({
      name: `${prefix}gen_ai_client_operation_duration_seconds`,
      help: 'Duration of provider calls (a stream: to its last chunk), in seconds.',
      labelNames: [...labelNames, 'error_type'],
      buckets: [...GENAI_BUCKETS.duration],
      registers,
    })
    this.#serverDuration = new prom.Histogram({
      name: `${prefix}gen_ai_server_request_duration_seconds`,
      help: 'Duration of the requests the proxy served (a stream: to its last byte), in seconds.',
      labelNames: [...labelNames, 'error_type'],
      buckets: [...GENAI_BUCKETS.duration],
      registers,
    })
    this.#timeToFirstToken = new prom.Histogram({
      name: `${prefix}gen_ai_server_time_to_first_token_seconds`,
      help: 'Time from request arrival to the first streamed event sent, in seconds.',
      labelNames: [...labelNames],
      buckets: [...GENAI_BUCKETS.timeToFirstToken],
      registers,
    })
    this.#timePerOutputToken = new prom.Histogram({
      name: `${prefix}gen_ai_server_time_per_output_token_seconds`,
      help: 'Time per output token after the first of a streamed answer, in seconds.',
      labelNames: [...labelNames],
      buckets: [...GENAI_BUCKETS.timePerOutputToken],
      registers,
    })
    if (meter !== undefined) {
      const histogram = (name: string, unit: string, description: string, buckets: readonly number[]) =>
        meter.createHistogram(name, { unit, description, advice: { explicitBucketBoundaries: [...buckets] } })
      this.#otel = {
        tokenUsage: histogram(
          'gen_ai.client.token.usage',
          '{token}',
          'Tokens used per provider call',
          GENAI_BUCKETS.tokens,
        ),
        clientDuration: histogram(
          'gen_ai.client.operation.duration',
          's',
          'Duration of provider calls',
          GENAI_BUCKETS.duration,
        ),
        serverDuration: histogram(
          'gen_ai.server.request.duration',
          's',
          'Duration of served requests',
          GENAI_BUCKETS.duration,
        ),
        timeToFirstToken: histogram(
          'gen_ai.server.time_to_first_token',
          's',
          'Time to the first streamed event',
          GENAI_BUCKETS.timeToFirstToken,
        ),
        timePerOutputToken: histogram(
          'gen_ai.server.time_per_output_token',
          's',
          'Time per output token after the first',
          GENAI_BUCKETS.timePerOutputToken,
        ),
      }
    }
  }

  /** Records one served exchange. */
  recordServer(measurement: ServerMeasurement): void {
    const labels = promLabels(measurement)
    const attributes = otelAttributes(measurement)
    this.#serverDuration.observe(withError(labels, measurement), measurement.durationSeconds)
    this.#otel?.serverDuration.record(
      measurement.durationSeconds,
      withErrorAttribute(attributes, measurement),
    )
    if (measurement.timeToFirstTokenSeconds !== undefined) {
      this.#timeToFirstToken.observe(labels, measurement.timeToFirstTokenSeconds)
      this.#otel?.timeToFirstToken.record(measurement.timeToFirstTokenSeconds, attributes)
    }
    if (measurement.timePerOutputTokenSeconds !== undefined) {
      this.#timePerOutputToken.observe(labels, measurement.timePerOutputTokenSeconds)
      this.#otel?.timePerOutputToken.record(measurement.timePerOutputTokenSeconds, attributes)
    }
  }

  /** Records one provider call. */
  recordClient(measurement: ClientMeasurement): void {
    const labels = promLabels(measurement)
    const attributes = otelAttributes(measurement)
    this.#clientDuration.observe(withError(labels, measurement), measurement.durationSeconds)
    this.#otel?.clientDuration.record(
      measurement.durationSeconds,
      withErrorAttribute(attributes, measurement),
    )
    const tokens: Array<['input' | 'output', number | undefined]> = [
      ['input', measurement.inputTokens],
      ['output', measurement.outputTokens],
    ]
    for (const [type, count] of tokens) {
      if (count === undefined) continue
      this.#tokenUsage.observe({ ...labels, gen_ai_token_type: type }, count)
      this.#otel?.tokenUsage.record(count, { ...attributes, 'gen_ai.token.type': type })
    }
  }
}

function promLabels(labels: GenAiLabels): Record<Labels, string> {
  return {
    gen_ai_operation_name: labels.operation,
    gen_ai_provider_name: labels.provider,
    gen_ai_request_model: labels.model,
  }
}

function withError(
  labels: Record<Labels, string>,
  measurement: GenAiLabels,
): Record<Labels | 'error_type', string> {
  return { ...labels, error_type: measurement.errorType ?? '' }
}

function otelAttributes(labels: GenAiLabels): Attributes {
  return {
    'gen_ai.operation.name': labels.operation,
    'gen_ai.provider.name': labels.provider,
    'gen_ai.request.model': labels.model,
  }
}

function withErrorAttribute(attributes: Attributes, measurement: GenAiLabels): Attributes {
  return measurement.errorType === undefined
    ? attributes
    : { ...attributes, 'error.type': measurement.errorType }
}
