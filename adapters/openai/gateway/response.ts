/**
 * Canonical answers → OpenAI response bodies, for the gateway: `chat.completion`, the embeddings
 * list (float arrays, or base64 of little-endian float32 as the official SDK asks for by default),
 * the model list, and the error body `{"error":{message,type,param,code}}` with our stable code.
 */
import type {
  CanonicalResponse,
  ContinuumError,
  EmbeddingResponse,
  FinishReason,
  ModelListing,
  Usage,
} from '../../../src/index'
import type { OpenAIChatResponse, OpenAIToolCall, OpenAIUsage } from '../provider/wire'

/**
 * Canonical finish reasons in OpenAI's words. `error` (a provider stopped for a reason it did not
 * name) stays `error`, as vLLM reports its own `abort`: a client must not read it as a clean stop.
 */
export function toOpenAIFinishReason(reason: FinishReason): string {
  return reason
}

/** OpenAI's usage object. */
export function toOpenAIUsage(usage: Usage): OpenAIUsage {
  return {
    prompt_tokens: usage.inputTokens,
    completion_tokens: usage.outputTokens,
    total_tokens: usage.inputTokens + usage.outputTokens,
  }
}

/** A `chat.completion` body; `model` is the public name the client asked for. */
export function toOpenAIChatResponse(
  response: CanonicalResponse,
  model: string,
  created: number,
): OpenAIChatResponse {
  const toolCalls: OpenAIToolCall[] = response.toolCalls.map((call) => ({
    id: call.id,
    type: 'function',
    function: { name: call.name, arguments: call.arguments },
  }))
  const message: OpenAIChatResponse['choices'][number]['message'] = {
    role: 'assistant',
    content: response.content === '' && toolCalls.length > 0 ? null : response.content,
    refusal: null,
  }
  if (toolCalls.length > 0) message.tool_calls = toolCalls
  const body: OpenAIChatResponse = {
    id: response.id.startsWith('chatcmpl') ? response.id : `chatcmpl-${response.id}`,
    object: 'chat.completion',
    created,
    model,
    choices: [{ index: 0, message, finish_reason: toOpenAIFinishReason(response.finishReason) }],
  }
  if (response.usage !== undefined) body.usage = toOpenAIUsage(response.usage)
  return body
}

/** Base64 of the vector as little-endian float32, the SDK's `encoding_format: 'base64'`. */
function base64Vector(vector: readonly number[]): string {
  const bytes = Buffer.allocUnsafe(vector.length * 4)
  for (let index = 0; index < vector.length; index++) bytes.writeFloatLE(vector[index]!, index * 4)
  return bytes.toString('base64')
}

/** An embeddings list body. */
export function toOpenAIEmbeddingResponse(
  response: EmbeddingResponse,
  model: string,
  encoding: 'float' | 'base64',
): Record<string, unknown> {
  const inputTokens = response.usage?.inputTokens ?? 0
  return {
    object: 'list',
    data: response.embeddings.map((vector, index) => ({
      object: 'embedding',
      index,
      embedding: encoding === 'base64' ? base64Vector(vector) : vector,
    })),
    model,
    usage: { prompt_tokens: inputTokens, total_tokens: inputTokens },
  }
}

/** One entry of `/v1/models`; `owned_by` names the providers that serve it. */
export function toOpenAIModel(listing: ModelListing): Record<string, unknown> {
  return { id: listing.id, object: 'model', created: 0, owned_by: listing.providers.join(',') }
}

/** The `/v1/models` list. */
export function toOpenAIModelList(listings: readonly ModelListing[]): Record<string, unknown> {
  return { object: 'list', data: listings.map(toOpenAIModel) }
}

/** OpenAI's error body, keeping our stable code in `code` and content-free details beside it. */
export function toOpenAIError(error: ContinuumError): Record<string, unknown> {
  return {
    error: { ...error.details, message: error.message, type: error.type, param: null, code: error.code },
  }
}
