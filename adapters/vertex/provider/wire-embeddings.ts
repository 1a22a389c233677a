/**
 * The Vertex AI text-embeddings `:predict` answer: `predictions[i].embeddings.values` in instance
 * order, with `statistics.token_count` per instance (per the text-embeddings API reference).
 */
import { isRecord, protocolError } from '../../../src/provider-kit/index'

/** Reads the vectors and the summed token count of one `:predict` answer of `expected` instances. */
export function readPredictions(
  body: unknown,
  providerId: string,
  expected: number,
): { embeddings: number[][]; tokens: number } {
  if (!isRecord(body) || !Array.isArray(body.predictions))
    throw protocolError(providerId, 'a predict answer without predictions')
  if (body.predictions.length !== expected)
    throw protocolError(providerId, 'a different number of predictions than instances')
  let tokens = 0
  const embeddings = body.predictions.map((prediction: unknown) => {
    const embedding = isRecord(prediction) ? prediction.embeddings : undefined
    const values = isRecord(embedding) ? embedding.values : undefined
    if (!Array.isArray(values) || values.some((value) => typeof value !== 'number')) {
      throw protocolError(providerId, 'a prediction without numeric embeddings.values')
    }
    const statistics = isRecord(embedding) ? embedding.statistics : undefined
    if (isRecord(statistics) && typeof statistics.token_count === 'number') tokens += statistics.token_count
    return values as number[]
  })
  return { embeddings, tokens }
}
