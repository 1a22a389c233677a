/**
 * Telemetry and audit facts of TGI bodies: the `parameters` of a request, and the finish reason
 * and generated token count of an answer, which TGI puts under `details` (on the last stream
 * event too). Counts and names only; TGI serves one model, so requests name none.
 */
import {
  addAnswerFacts,
  addFinishReason,
  type FactsReader,
  finiteNumber,
  tokenCount,
} from '../../../src/adapter-kit/index'

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

/** Facts of every TGI route. */
export const tgiFacts: FactsReader = {
  request(body) {
    const parameters = isRecord(body.parameters) ? body.parameters : {}
    return {
      model: undefined,
      maxTokens: tokenCount(parameters.max_new_tokens),
      temperature: finiteNumber(parameters.temperature),
    }
  },
  response(facts, event) {
    if (!isRecord(event.details)) return
    addFinishReason(facts, event.details.finish_reason)
    addAnswerFacts(facts, { outputTokens: event.details.generated_tokens })
  },
}
