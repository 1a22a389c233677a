/**
 * OpenAI answers → canonical answers. Upstream bodies are untrusted: each field the router relies
 * on is checked, and a body that does not follow the protocol becomes
 * CONTINUUM_UPSTREAM_PROTOCOL_ERROR naming the field (never its value).
 */
import {
  type CanonicalResponse,
  type Citation,
  type ContinuumError,
  type EmbeddingResponse,
  type FinishReason,
  isRecord,
  protocolError as sharedProtocolError,
  type ToolCall,
  type Usage,
} from '../../../src/provider-kit/index'
import type { OpenAIChatResponse, OpenAIEmbeddingResponse, OpenAIUsage } from './wire'

/** Maps OpenAI's `finish_reason`; `function_call` is the legacy name of `tool_calls`. */
export function fromOpenAIFinishReason(reason: string | null | undefined): FinishReason {
  switch (reason) {
    case 'stop':
    case null:
    case undefined:
      return 'stop'
    case 'length':
      return 'length'
    case 'tool_calls':
    case 'function_call':
      return 'tool_calls'
    case 'content_filter':
      return 'content_filter'
    default:
      // vLLM reports `abort` for a request it cancelled; anything unknown is not a clean stop.
      return 'error'
  }
}

/** Maps OpenAI's `usage`, or undefined when it is absent or malformed. */
export function fromOpenAIUsage(usage: OpenAIUsage | null | undefined): Usage | undefined {
  if (usage === null || usage === undefined || typeof usage !== 'object') return undefined
  if (typeof usage.prompt_tokens !== 'number') return undefined
  const result: Usage = { inputTokens: usage.prompt_tokens, outputTokens: usage.completion_tokens ?? 0 }
  const cached = usage.prompt_tokens_details?.cached_tokens
  if (typeof cached === 'number' && cached > 0) result.cacheReadTokens = cached
  const reasoning = usage.completion_tokens_details?.reasoning_tokens
  if (typeof reasoning === 'number' && reasoning > 0) result.reasoningTokens = reasoning
  return result
}

/** Translates a `chat.completion` body. */
export function fromOpenAIChatResponse(body: unknown, providerId: string): CanonicalResponse {
  const response = body as OpenAIChatResponse
  if (!isRecord(body) || !Array.isArray(response.choices)) throw protocolError(providerId, 'choices')
  const choice = response.choices[0]
  if (!isRecord(choice) || !isRecord(choice.message)) throw protocolError(providerId, 'choices[0].message')
  const message = choice.message
  if (message.content !== null && message.content !== undefined && typeof message.content !== 'string') {
    throw protocolError(providerId, 'choices[0].message.content')
  }
  const toolCalls: ToolCall[] = []
  for (const [index, call] of (message.tool_calls ?? []).entries()) {
    if (!isRecord(call) || !isRecord(call.function) || typeof call.function.name !== 'string') {
      throw protocolError(providerId, `choices[0].message.tool_calls[${index}]`)
    }
    toolCalls.push({
      id: typeof call.id === 'string' ? call.id : `call_${index}`,
      name: call.function.name,
      arguments: typeof call.function.arguments === 'string' ? call.function.arguments : '',
    })
  }
  const result: CanonicalResponse = {
    id: typeof response.id === 'string' ? response.id : '',
    model: typeof response.model === 'string' ? response.model : '',
    provider: providerId,
    content: message.content ?? '',
    toolCalls,
    finishReason: fromOpenAIFinishReason(choice.finish_reason),
  }
  const usage = fromOpenAIUsage(response.usage)
  if (usage !== undefined) result.usage = usage
  if (typeof message.refusal === 'string' && message.refusal !== '') result.refusal = message.refusal
  if (typeof message.reasoning_content === 'string' && message.reasoning_content !== '') {
    result.reasoning = message.reasoning_content
  }
  const citations = fromOpenAIAnnotations(message.annotations, result.content)
  if (citations.length > 0) result.citations = citations
  return result
}

/** `url_citation` annotations → citations; the cited span's text is read from the content. */
export function fromOpenAIAnnotations(annotations: unknown, content: string): Citation[] {
  if (!Array.isArray(annotations)) return []
  const citations: Citation[] = []
  for (const annotation of annotations) {
    if (!isRecord(annotation) || annotation.type !== 'url_citation') continue
    // Chat Completions nest the citation; the Responses API puts its members on the annotation.
    const source = isRecord(annotation.url_citation) ? annotation.url_citation : annotation
    if (typeof source.url !== 'string') continue
    const citation: Citation = { url: source.url }
    if (typeof source.title === 'string') citation.title = source.title
    if (typeof source.start_index === 'number' && typeof source.end_index === 'number') {
      citation.start = source.start_index
      citation.end = source.end_index
      if (content !== '') citation.citedText = content.slice(source.start_index, source.end_index)
    }
    citations.push(citation)
  }
  return citations
}

/** Translates an embeddings list, ordering vectors by their `index`. */
export function fromOpenAIEmbeddingResponse(
  body: unknown,
  providerId: string,
  expectedCount: number,
): EmbeddingResponse {
  const response = body as OpenAIEmbeddingResponse
  if (!isRecord(body) || !Array.isArray(response.data)) throw protocolError(providerId, 'data')
  const embeddings: number[][] = new Array(expectedCount)
  for (const [position, item] of response.data.entries()) {
    const index = isRecord(item) && typeof item.index === 'number' ? item.index : position
    if (!isRecord(item) || !Array.isArray(item.embedding) || index < 0 || index >= expectedCount) {
      throw protocolError(providerId, `data[${position}]`)
    }
    embeddings[index] = item.embedding
  }
  for (let index = 0; index < expectedCount; index++) {
    if (embeddings[index] === undefined) throw protocolError(providerId, `data[${index}]`)
  }
  const result: EmbeddingResponse = {
    model: typeof response.model === 'string' ? response.model : '',
    provider: providerId,
    embeddings,
  }
  if (response.usage !== undefined && typeof response.usage?.prompt_tokens === 'number') {
    result.usage = { inputTokens: response.usage.prompt_tokens, outputTokens: 0 }
  }
  return result
}

/** The error for an upstream body missing a field the protocol promises; names the field, never its value. */
export function protocolError(providerId: string, field: string): ContinuumError {
  return sharedProtocolError(providerId, `an answer without a valid ${field}`)
}
