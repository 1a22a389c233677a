/**
 * Telemetry and audit facts of Anthropic Messages bodies: the model and parameters of a request,
 * and the id, stop reason and token usage of a message, also across its stream (`message_start`
 * carries the message, `message_delta` the stop reason and the output count). Counts, ids and
 * names only.
 */
import {
  addAnswerFacts,
  addFinishReason,
  type FactsReader,
  finiteNumber,
  type ResponseFacts,
  shortName,
  tokenCount,
} from '../../../src/adapter-kit/index'

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

function readMessage(facts: ResponseFacts, message: Record<string, unknown>): void {
  const usage = isRecord(message.usage) ? message.usage : {}
  addAnswerFacts(facts, {
    id: message.id,
    model: message.model,
    inputTokens: usage.input_tokens,
    outputTokens: usage.output_tokens,
  })
  addFinishReason(facts, message.stop_reason)
}

/** Facts of the Messages route. */
export const anthropicFacts: FactsReader = {
  request(body) {
    return {
      model: shortName(body.model),
      maxTokens: tokenCount(body.max_tokens),
      temperature: finiteNumber(body.temperature),
    }
  },
  response(facts, event) {
    readMessage(facts, event)
    if (isRecord(event.message)) readMessage(facts, event.message)
    if (isRecord(event.delta)) addFinishReason(facts, event.delta.stop_reason)
  },
}
