/**
 * Telemetry and audit facts of Ollama bodies: the model and `options` of a request, and the done
 * reason and evaluation counts of an answer (the last stream line carries them). Counts and names only.
 */
import {
  addAnswerFacts,
  addFinishReason,
  type FactsReader,
  finiteNumber,
  shortName,
  tokenCount,
} from '../../../src/adapter-kit/index'

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

/** Facts of every Ollama route. */
export const ollamaFacts: FactsReader = {
  request(body) {
    const options = isRecord(body.options) ? body.options : {}
    return {
      model: shortName(body.model),
      maxTokens: tokenCount(options.num_predict),
      temperature: finiteNumber(options.temperature),
    }
  },
  response(facts, event) {
    addAnswerFacts(facts, {
      model: event.model,
      inputTokens: event.prompt_eval_count,
      outputTokens: event.eval_count,
    })
    addFinishReason(facts, event.done_reason)
  },
}
