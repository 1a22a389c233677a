/**
 * Canonical answers → OpenAI response bodies, for the gateway: `chat.completion`, the embeddings
 * list (float arrays, or base64 of little-endian float32 as the official SDK asks for by default),
 * the model list, and the error body `{"error":{message,type,param,code}}` with our stable code.
 */
import type {
  CanonicalResponse,
  Citation,
  ContinuumError,
  EmbeddingResponse,
  FinishReason,
  ModelListing,
  Usage,
} from '../../../src/index'
import type { OpenAIAnnotation, OpenAIChatResponse, OpenAIToolCall, OpenAIUsage } from '../provider/wire'

/**
 * Canonical finish reasons in OpenAI's words. `error` (a provider stopped for a reason it did not
 * name) stays `error`, as vLLM reports its own `abort`: a client must not read it as a clean stop.
 */
export function toOpenAIFinishReason(reason: FinishReason): string {
  return reason
}

/** OpenAI's usage object. */
export function toOpenAIUsage(usage: Usage): OpenAIUsage {
  const result: OpenAIUsage = {
    prompt_tokens: usage.inputTokens,
    completion_tokens: usage.outputTokens,
    total_tokens: usage.inputTokens + usage.outputTokens,
  }
  // Anthropic's cache writes have no OpenAI counter; they stay inside prompt_tokens.
  if (usage.cacheReadTokens !== undefined)
    result.prompt_tokens_details = { cached_tokens: usage.cacheReadTokens }
  if (usage.reasoningTokens !== undefined) {
    result.completion_tokens_details = { reasoning_tokens: usage.reasoningTokens }
  }
  return result
}

/** A `chat.completion` body; `model` is the public name the client asked for. */
export function toOpenAIChatResponse(
  response: CanonicalResponse,
  model: string,
  created: number,
): OpenAIChatResponse {
  // A same-dialect provider's answer goes back as it came, under the public model name.
  if (response.native?.dialect === 'openai-chat') {
    const body = response.native.body
    if (body.model === model) return body as unknown as OpenAIChatResponse
    return { ...body, model } as unknown as OpenAIChatResponse
  }
  const toolCalls: OpenAIToolCall[] = response.toolCalls.map((call) => ({
    id: call.id,
    type: 'function',
    function: { name: call.name, arguments: call.arguments },
  }))
  const message: OpenAIChatResponse['choices'][number]['message'] = {
    role: 'assistant',
    content:
      response.content === '' && (toolCalls.length > 0 || response.refusal !== undefined)
        ? null
        : response.content,
    refusal: response.refusal ?? null,
  }
  if (toolCalls.length > 0) message.tool_calls = toolCalls
  // The field vLLM and DeepSeek use for reasoning text; OpenAI's own models never return it.
  if (response.reasoning !== undefined) message.reasoning_content = response.reasoning
  if (response.citations !== undefined) message.annotations = response.citations.map(toOpenAIAnnotation)
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

/** A citation as a `url_citation` annotation; a span the provider did not give covers nothing. */
export function toOpenAIAnnotation(citation: Citation): OpenAIAnnotation {
  return {
    type: 'url_citation',
    url_citation: {
      url: citation.url,
      title: citation.title ?? '',
      start_index: citation.start ?? 0,
      end_index: citation.end ?? 0,
    },
  }
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
