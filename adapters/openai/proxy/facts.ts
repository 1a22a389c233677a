/**
 * Telemetry and audit facts of OpenAI bodies: the model and parameters of a request, and the id,
 * finish reasons and token usage of chat completions, legacy completions, embeddings and the
 * Responses API (whose stream carries the whole response on its terminal events). Counts, ids and
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

function readObject(facts: ResponseFacts, object: Record<string, unknown>): void {
  const usage = isRecord(object.usage) ? object.usage : {}
  addAnswerFacts(facts, {
    id: object.id,
    model: object.model,
    // Chat, completions and embeddings say prompt/completion; the Responses API input/output.
    inputTokens: usage.prompt_tokens ?? usage.input_tokens,
    outputTokens: usage.completion_tokens ?? usage.output_tokens,
  })
  if (Array.isArray(object.choices)) {
    for (const choice of object.choices) if (isRecord(choice)) addFinishReason(facts, choice.finish_reason)
  }
  if (object.object === 'response' && object.status !== 'in_progress') addFinishReason(facts, object.status)
}

/** Facts of every OpenAI route. */
export const openaiFacts: FactsReader = {
  request(body) {
    return {
      model: shortName(body.model),
      maxTokens: tokenCount(body.max_tokens ?? body.max_completion_tokens ?? body.max_output_tokens),
      temperature: finiteNumber(body.temperature),
    }
  },
  response(facts, event) {
    readObject(facts, event)
    // Responses API stream: response.completed and friends carry the whole response.
    if (isRecord(event.response)) readObject(facts, event.response)
  },
}
