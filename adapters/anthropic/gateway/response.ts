/**
 * Canonical answers → Anthropic Messages response bodies, for the gateway: the `message` object
 * (text block, then `tool_use` blocks with their input parsed back into JSON), `stop_reason`, usage,
 * the model list the Anthropic SDK reads, and the error body `{"type":"error","error":{type,
 * message}}` with our stable code kept in `error.code`.
 */
import type {
  CanonicalResponse,
  Citation,
  ContinuumError,
  ErrorType,
  FinishReason,
  ModelListing,
  ToolCall,
  Usage,
} from '../../../src/index'
import { jsonObjectOrUndefined } from '../../../src/provider-kit/index'
import type { AnthropicMessagesResponse, AnthropicResponseBlock, AnthropicUsage } from '../provider/wire'

/** Canonical finish reasons as Anthropic stop reasons; an unnamed stop (`error`) reads as `end_turn`. */
export function toAnthropicStopReason(reason: FinishReason): string {
  switch (reason) {
    case 'length':
      return 'max_tokens'
    case 'tool_calls':
      return 'tool_use'
    case 'content_filter':
      return 'refusal'
    default:
      return 'end_turn'
  }
}

/** A tool call's arguments as the object Anthropic carries; text that is not an object becomes `{}`. */
export function toolInput(call: Pick<ToolCall, 'arguments'>): Record<string, unknown> {
  return jsonObjectOrUndefined(call.arguments) ?? {}
}

/** A `message` body; `model` is the public name the client asked for. */
export function toAnthropicResponse(response: CanonicalResponse, model: string): AnthropicMessagesResponse {
  // A same-dialect provider's answer goes back as it came, under the public model name.
  if (response.native?.dialect === 'anthropic-messages') {
    return { ...response.native.body, model } as unknown as AnthropicMessagesResponse
  }
  const content: AnthropicResponseBlock[] = []
  // Reasoning from another provider has no Anthropic signature; a client sending it back to
  // Anthropic itself would be refused, which is why it is marked with an empty one.
  if (response.reasoning !== undefined) {
    content.push({ type: 'thinking', thinking: response.reasoning, signature: '' })
  }
  if (response.content !== '') {
    const block: AnthropicResponseBlock = { type: 'text', text: response.content }
    if (response.citations !== undefined) block.citations = response.citations.map(toAnthropicCitation)
    content.push(block)
  }
  if (response.refusal !== undefined) content.push({ type: 'text', text: response.refusal })
  for (const call of response.toolCalls) {
    content.push({ type: 'tool_use', id: call.id, name: call.name, input: toolInput(call) })
  }
  return {
    id: response.id.startsWith('msg_') ? response.id : `msg_${response.id}`,
    type: 'message',
    role: 'assistant',
    model,
    content,
    stop_reason: response.refusal !== undefined ? 'refusal' : toAnthropicStopReason(response.finishReason),
    stop_sequence: null,
    usage: toAnthropicUsage(response.usage),
  }
}

/** A citation as a web search result location; the search index is Anthropic's own, so it stays empty. */
export function toAnthropicCitation(citation: Citation): Record<string, unknown> {
  return {
    type: 'web_search_result_location',
    url: citation.url,
    title: citation.title ?? null,
    cited_text: citation.citedText ?? '',
    encrypted_index: '',
  }
}

/** Anthropic's usage: `input_tokens` excludes the cache reads and writes it counts apart. */
export function toAnthropicUsage(usage: Usage | undefined): AnthropicUsage {
  const read = usage?.cacheReadTokens ?? 0
  const write = usage?.cacheWriteTokens ?? 0
  const result: AnthropicUsage = {
    input_tokens: Math.max(0, (usage?.inputTokens ?? 0) - read - write),
    output_tokens: usage?.outputTokens ?? 0,
  }
  if (usage?.cacheReadTokens !== undefined) result.cache_read_input_tokens = read
  if (usage?.cacheWriteTokens !== undefined) result.cache_creation_input_tokens = write
  if (usage?.reasoningTokens !== undefined)
    result.output_tokens_details = { thinking_tokens: usage.reasoningTokens }
  return result
}

/** The `/v1/models` list in Anthropic's shape (one page holding every model). */
export function toAnthropicModelList(listings: readonly ModelListing[]): Record<string, unknown> {
  return {
    data: listings.map(toAnthropicModel),
    has_more: false,
    first_id: listings[0]?.id ?? null,
    last_id: listings.at(-1)?.id ?? null,
  }
}

/** One model in Anthropic's shape. */
export function toAnthropicModel(listing: ModelListing): Record<string, unknown> {
  return { type: 'model', id: listing.id, display_name: listing.id, created_at: '1970-01-01T00:00:00Z' }
}

/** Anthropic's `error.type` for each of our error types; the rest are `api_error`. */
const ERROR_TYPES: Partial<Record<ErrorType, string>> = {
  invalid_request_error: 'invalid_request_error',
  authentication_error: 'authentication_error',
  permission_error: 'permission_error',
  not_found_error: 'not_found_error',
  rate_limit_error: 'rate_limit_error',
}

/** Anthropic's error body; 503s read as `overloaded_error`, as Anthropic reports its own. */
export function toAnthropicError(error: ContinuumError): Record<string, unknown> {
  const type = ERROR_TYPES[error.type] ?? (error.status === 503 ? 'overloaded_error' : 'api_error')
  return { type: 'error', error: { ...error.details, type, message: error.message, code: error.code } }
}
