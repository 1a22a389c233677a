/**
 * Anthropic answers → canonical answers: text blocks are joined, `tool_use` blocks become tool calls
 * with their input as JSON text, thinking becomes the canonical reasoning, other blocks
 * (server tool results) have no canonical form (a same-dialect client gets them verbatim), and `stop_reason`
 * maps onto the canonical finish reasons. Bodies are checked before they are read.
 */

import {
  type CanonicalResponse,
  type Citation,
  countOrUndefined,
  type FinishReason,
  isRecord,
  protocolError,
  type ToolCall,
  toolArgumentsText,
  type Usage,
} from '../../../src/provider-kit/index'
import type { AnthropicMessagesResponse, AnthropicUsage } from './wire'

/** end_turn, stop_sequence → stop; max_tokens → length; tool_use → tool_calls; refusal → content_filter. */
export function fromAnthropicStopReason(reason: string | null | undefined): FinishReason {
  switch (reason) {
    case 'end_turn':
    case 'stop_sequence':
    case 'pause_turn':
    case null:
    case undefined:
      return 'stop'
    case 'max_tokens':
    case 'model_context_window_exceeded':
      return 'length'
    case 'tool_use':
      return 'tool_calls'
    case 'refusal':
      return 'content_filter'
    default:
      return 'error'
  }
}

/** Input tokens include cache writes and reads, which Anthropic counts apart. */
export function fromAnthropicUsage(usage: AnthropicUsage | undefined, previous?: Usage): Usage | undefined {
  if (!isRecord(usage)) return previous
  const input = countOrUndefined(usage.input_tokens)
  const cacheWrite = countOrUndefined(usage.cache_creation_input_tokens) ?? 0
  const cacheRead = countOrUndefined(usage.cache_read_input_tokens) ?? 0
  const output = countOrUndefined(usage.output_tokens)
  if (input === undefined && output === undefined) return previous
  const result: Usage = {
    inputTokens: input === undefined ? (previous?.inputTokens ?? 0) : input + cacheWrite + cacheRead,
    outputTokens: output ?? previous?.outputTokens ?? 0,
  }
  const read = input === undefined ? previous?.cacheReadTokens : cacheRead
  const write = input === undefined ? previous?.cacheWriteTokens : cacheWrite
  if (read !== undefined && read > 0) result.cacheReadTokens = read
  if (write !== undefined && write > 0) result.cacheWriteTokens = write
  const details = usage.output_tokens_details
  const thinking = isRecord(details) ? countOrUndefined(details.thinking_tokens) : undefined
  if (thinking !== undefined && thinking > 0) result.reasoningTokens = thinking
  else if (output === undefined && previous?.reasoningTokens !== undefined)
    result.reasoningTokens = previous.reasoningTokens
  return result
}

/** Translates a `message` body. */
export function fromAnthropicResponse(body: unknown, providerId: string): CanonicalResponse {
  if (!isRecord(body) || !Array.isArray(body.content)) {
    throw protocolError(providerId, 'an answer without a content array')
  }
  const response = body as unknown as AnthropicMessagesResponse
  let content = ''
  let reasoning = ''
  const citations: Citation[] = []
  const toolCalls: ToolCall[] = []
  for (const block of response.content) {
    if (!isRecord(block)) throw protocolError(providerId, 'a content block that is not an object')
    if (block.type === 'text' && typeof block.text === 'string') {
      for (const citation of fromAnthropicCitations(block.citations)) {
        citations.push({ ...citation, start: content.length, end: content.length + block.text.length })
      }
      content += block.text
    } else if (block.type === 'thinking' && typeof block.thinking === 'string') reasoning += block.thinking
    else if (block.type === 'tool_use') {
      if (typeof block.id !== 'string' || typeof block.name !== 'string') {
        throw protocolError(providerId, 'a tool_use block without id or name')
      }
      toolCalls.push({
        id: block.id,
        name: block.name,
        arguments: toolArgumentsText(block.input, providerId),
      })
    }
  }
  const result: CanonicalResponse = {
    id: typeof response.id === 'string' ? response.id : '',
    model: typeof response.model === 'string' ? response.model : '',
    provider: providerId,
    content,
    toolCalls,
    finishReason: fromAnthropicStopReason(response.stop_reason),
  }
  const usage = fromAnthropicUsage(response.usage)
  if (usage !== undefined) result.usage = usage
  if (reasoning !== '') result.reasoning = reasoning
  if (citations.length > 0) result.citations = citations
  return result
}

/**
 * Web search citations → canonical citations. Document citations (`char_location` and the like)
 * only arise from document blocks, which reach Anthropic only verbatim, so they have no canonical form.
 */
export function fromAnthropicCitations(citations: unknown): Citation[] {
  if (!Array.isArray(citations)) return []
  const result: Citation[] = []
  for (const citation of citations) {
    if (
      !isRecord(citation) ||
      citation.type !== 'web_search_result_location' ||
      typeof citation.url !== 'string'
    )
      continue
    const entry: Citation = { url: citation.url }
    if (typeof citation.title === 'string') entry.title = citation.title
    if (typeof citation.cited_text === 'string') entry.citedText = citation.cited_text
    result.push(entry)
  }
  return result
}
