/**
 * OpenAI Responses API answers → canonical answers, for a Responses request an OpenAI provider
 * forwards verbatim: the router still needs the text, tool calls, usage and how it finished (for
 * accounting, limits and stream integrity) while the client gets the provider's own objects.
 * Upstream bodies are untrusted: a body or event that does not follow the protocol becomes
 * CONTINUUM_UPSTREAM_PROTOCOL_ERROR naming the field, never its value; a stream that stops before
 * its terminal event is reported as cut.
 */
import {
  type CanonicalResponse,
  type Citation,
  type ContinuumError,
  countOrUndefined,
  type FinishReason,
  isRecord,
  protocolError,
  providerErrorFromResponse,
  type StreamChunk,
  streamEndedEarly,
  type ToolCall,
  type Usage,
} from '../../../src/provider-kit/index'
import { fromOpenAIAnnotations } from './wire-response'

/** The Responses usage object → canonical usage. */
export function fromResponsesUsage(usage: unknown): Usage | undefined {
  if (!isRecord(usage)) return undefined
  const input = countOrUndefined(usage.input_tokens)
  if (input === undefined) return undefined
  const result: Usage = { inputTokens: input, outputTokens: countOrUndefined(usage.output_tokens) ?? 0 }
  const inputDetails = isRecord(usage.input_tokens_details) ? usage.input_tokens_details : {}
  const outputDetails = isRecord(usage.output_tokens_details) ? usage.output_tokens_details : {}
  const cached = countOrUndefined(inputDetails.cached_tokens)
  if (cached !== undefined && cached > 0) result.cacheReadTokens = cached
  const written = countOrUndefined(inputDetails.cache_write_tokens)
  if (written !== undefined && written > 0) result.cacheWriteTokens = written
  const reasoning = countOrUndefined(outputDetails.reasoning_tokens)
  if (reasoning !== undefined && reasoning > 0) result.reasoningTokens = reasoning
  return result
}

/** How a `response` object finished. */
function finishOf(response: Record<string, unknown>, calledTools: boolean): FinishReason {
  if (response.status === 'incomplete') {
    const reason = isRecord(response.incomplete_details) ? response.incomplete_details.reason : undefined
    return reason === 'content_filter' ? 'content_filter' : 'length'
  }
  if (response.status === 'failed' || response.status === 'cancelled') return 'error'
  return calledTools ? 'tool_calls' : 'stop'
}

/** Translates a `response` object. */
export function fromResponsesObject(body: unknown, providerId: string): CanonicalResponse {
  if (!isRecord(body) || !Array.isArray(body.output)) {
    throw protocolError(providerId, 'a response without an output array')
  }
  let content = ''
  let refusal = ''
  let reasoning = ''
  const citations: Citation[] = []
  const toolCalls: ToolCall[] = []
  for (const item of body.output) {
    if (!isRecord(item)) throw protocolError(providerId, 'an output item that is not an object')
    if (item.type === 'message' && Array.isArray(item.content)) {
      for (const part of item.content) {
        if (!isRecord(part)) continue
        if (part.type === 'output_text' && typeof part.text === 'string') {
          // Annotation offsets count from the part's own start.
          for (const citation of fromOpenAIAnnotations(part.annotations, part.text)) {
            citations.push(shifted(citation, content.length))
          }
          content += part.text
        } else if (part.type === 'refusal' && typeof part.refusal === 'string') refusal += part.refusal
      }
    } else if (item.type === 'function_call') {
      if (typeof item.call_id !== 'string' || typeof item.name !== 'string') {
        throw protocolError(providerId, 'a function_call item without call_id or name')
      }
      toolCalls.push({
        id: item.call_id,
        name: item.name,
        arguments: typeof item.arguments === 'string' ? item.arguments : '',
      })
    } else if (item.type === 'reasoning' && Array.isArray(item.summary)) {
      for (const part of item.summary)
        if (isRecord(part) && typeof part.text === 'string') reasoning += part.text
    }
  }
  const result: CanonicalResponse = {
    id: typeof body.id === 'string' ? body.id : '',
    model: typeof body.model === 'string' ? body.model : '',
    provider: providerId,
    content,
    toolCalls,
    finishReason: finishOf(body, toolCalls.length > 0),
  }
  const usage = fromResponsesUsage(body.usage)
  if (usage !== undefined) result.usage = usage
  if (refusal !== '') result.refusal = refusal
  if (reasoning !== '') result.reasoning = reasoning
  if (citations.length > 0) result.citations = citations
  return result
}

function shifted(citation: Citation, offset: number): Citation {
  if (citation.start === undefined || citation.end === undefined || offset === 0) return citation
  return { ...citation, start: citation.start + offset, end: citation.end + offset }
}

/** Translates one Responses event stream; create one per request. */
export class ResponsesStreamTranslator {
  readonly #providerId: string
  /** Function-call output indexes → canonical tool-call indexes. */
  readonly #calls = new Map<number, number>()
  #done = false

  constructor(providerId: string) {
    this.#providerId = providerId
  }

  /** Whether the terminal event arrived: the answer is whole, whatever follows on the connection. */
  get done(): boolean {
    return this.#done
  }

  /** Parses the data of one SSE event. */
  parse(data: string): Record<string, unknown> {
    let parsed: unknown
    try {
      parsed = JSON.parse(data)
    } catch {
      throw protocolError(this.#providerId, 'a stream event that is not JSON')
    }
    if (!isRecord(parsed)) throw protocolError(this.#providerId, 'a stream event that is not an object')
    return parsed
  }

  /** Translates one parsed event. */
  push(event: Record<string, unknown>): StreamChunk[] {
    if (this.#done) return []
    const delta = typeof event.delta === 'string' ? event.delta : ''
    switch (event.type) {
      case 'response.output_text.delta':
        return delta === '' ? [] : [{ type: 'text-delta', text: delta }]
      case 'response.refusal.delta':
        return delta === '' ? [] : [{ type: 'refusal-delta', text: delta }]
      case 'response.reasoning_summary_text.delta':
        return delta === '' ? [] : [{ type: 'reasoning-delta', text: delta }]
      case 'response.output_text.annotation.added':
        return fromOpenAIAnnotations([event.annotation], '').map((citation) => ({
          type: 'citation',
          citation,
        }))
      case 'response.output_item.added': {
        const item = event.item
        if (!isRecord(item) || item.type !== 'function_call') return []
        if (typeof item.call_id !== 'string' || typeof item.name !== 'string') {
          throw protocolError(this.#providerId, 'a function_call item without call_id or name')
        }
        const index = this.#calls.size
        this.#calls.set(Number(event.output_index), index)
        return [{ type: 'tool-call-delta', index, id: item.call_id, name: item.name, argumentsDelta: '' }]
      }
      case 'response.function_call_arguments.delta': {
        const index = this.#calls.get(Number(event.output_index))
        if (index === undefined)
          throw protocolError(this.#providerId, 'arguments outside a function_call item')
        return delta === '' ? [] : [{ type: 'tool-call-delta', index, argumentsDelta: delta }]
      }
      case 'response.completed':
      case 'response.incomplete':
      case 'response.failed': {
        this.#done = true
        const response = isRecord(event.response) ? event.response : {}
        if (event.type === 'response.failed') throw this.#failure()
        const chunks: StreamChunk[] = []
        const usage = fromResponsesUsage(response.usage)
        if (usage !== undefined) chunks.push({ type: 'usage', usage })
        chunks.push({ type: 'finish', finishReason: finishOf(response, this.#calls.size > 0) })
        return chunks
      }
      case 'error':
        throw this.#failure()
      default:
        return []
    }
  }

  /** Called when the body ended; throws unless a terminal event arrived. */
  end(): void {
    if (!this.#done) throw streamEndedEarly(this.#providerId)
  }

  #failure(): ContinuumError {
    return providerErrorFromResponse(500, undefined, this.#providerId)
  }
}
