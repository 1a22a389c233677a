/**
 * Anthropic answers → canonical answers: text blocks are joined, `tool_use` blocks become tool calls
 * with their input as JSON text, other blocks (thinking, citations) are skipped, and `stop_reason`
 * maps onto the canonical finish reasons. Bodies are checked before they are read.
 */

import type { CanonicalResponse, FinishReason, ToolCall, Usage } from '../../../src/index'
import { countOrUndefined, isRecord, protocolError } from '../../../src/provider-kit/index'
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
  return {
    inputTokens: input === undefined ? (previous?.inputTokens ?? 0) : input + cacheWrite + cacheRead,
    outputTokens: output ?? previous?.outputTokens ?? 0,
  }
}

/** Translates a `message` body. */
export function fromAnthropicResponse(body: unknown, providerId: string): CanonicalResponse {
  if (!isRecord(body) || !Array.isArray(body.content)) {
    throw protocolError(providerId, 'an answer without a content array')
  }
  const response = body as unknown as AnthropicMessagesResponse
  let content = ''
  const toolCalls: ToolCall[] = []
  for (const block of response.content) {
    if (!isRecord(block)) throw protocolError(providerId, 'a content block that is not an object')
    if (block.type === 'text' && typeof block.text === 'string') content += block.text
    else if (block.type === 'tool_use') {
      if (typeof block.id !== 'string' || typeof block.name !== 'string') {
        throw protocolError(providerId, 'a tool_use block without id or name')
      }
      toolCalls.push({ id: block.id, name: block.name, arguments: JSON.stringify(block.input ?? {}) })
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
  return result
}
