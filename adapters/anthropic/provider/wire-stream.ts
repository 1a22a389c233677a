/**
 * Anthropic stream events → canonical stream chunks. Content blocks are indexed across text and
 * tool use, while canonical tool-call deltas are indexed among tool calls only, so block indexes
 * are renumbered. Usage arrives split (input in `message_start`, cumulative output in
 * `message_delta`) and is emitted once, before the finish, when `message_stop` arrives. An `error`
 * event maps to the same code its HTTP status would; a stream without `message_stop` is cut.
 */
import {
  type ContinuumError,
  type FinishReason,
  isRecord,
  protocolError,
  providerErrorFromResponse,
  type StreamChunk,
  streamEndedEarly,
  type Usage,
} from '../../../src/provider-kit/index'
import type { AnthropicStreamEvent } from './wire'
import { fromAnthropicCitations, fromAnthropicStopReason, fromAnthropicUsage } from './wire-response'

/** The HTTP status Anthropic documents for each error type. */
const ERROR_STATUS: Record<string, number> = {
  invalid_request_error: 400,
  authentication_error: 401,
  permission_error: 403,
  not_found_error: 404,
  request_too_large: 413,
  rate_limit_error: 429,
  api_error: 500,
  overloaded_error: 529,
}

interface ToolBlock {
  index: number
  sentArguments: boolean
}

/** Translates one stream; create one per request. */
export class AnthropicStreamTranslator {
  readonly #providerId: string
  readonly #toolBlocks = new Map<number, ToolBlock>()
  #usage: Usage | undefined
  #finishReason: FinishReason = 'stop'
  #done = false

  constructor(providerId: string) {
    this.#providerId = providerId
  }

  /** Whether `message_stop` arrived: the answer is whole, whatever follows on the connection. */
  get done(): boolean {
    return this.#done
  }

  /** Translates the data of one SSE event. */
  push(data: string): StreamChunk[] {
    if (this.#done) return []
    return this.pushParsed(this.parse(data))
  }

  /** Parses the data of one SSE event. */
  parse(data: string): unknown {
    try {
      return JSON.parse(data)
    } catch {
      throw protocolError(this.#providerId, 'a stream event that is not JSON')
    }
  }

  /** Translates one parsed stream event. */
  pushParsed(parsed: unknown): StreamChunk[] {
    if (this.#done) return []
    const event = parsed as AnthropicStreamEvent
    if (!isRecord(event)) throw protocolError(this.#providerId, 'a stream event that is not an object')
    switch (event.type) {
      case 'message_start':
        this.#usage = fromAnthropicUsage(event.message?.usage, this.#usage)
        return []
      case 'content_block_start':
        return this.#blockStart(event.index, event.content_block)
      case 'content_block_delta':
        return this.#blockDelta(event.index, event.delta)
      case 'content_block_stop': {
        const tool = this.#toolBlocks.get(event.index)
        // A tool called without arguments streams no JSON at all; give it an empty object.
        if (tool !== undefined && !tool.sentArguments) {
          tool.sentArguments = true
          return [{ type: 'tool-call-delta', index: tool.index, argumentsDelta: '{}' }]
        }
        return []
      }
      case 'message_delta':
        if (isRecord(event.delta) && typeof event.delta.stop_reason === 'string') {
          this.#finishReason = fromAnthropicStopReason(event.delta.stop_reason)
        }
        this.#usage = fromAnthropicUsage(event.usage, this.#usage)
        return []
      case 'message_stop': {
        this.#done = true
        const chunks: StreamChunk[] = []
        if (this.#usage !== undefined) chunks.push({ type: 'usage', usage: this.#usage })
        chunks.push({ type: 'finish', finishReason: this.#finishReason })
        return chunks
      }
      case 'error':
        throw this.#streamError(event.error)
      default:
        // ping, and event types added later, carry nothing the router needs.
        return []
    }
  }

  /**
   * The error of an `{"type":"error","error":{...}}` body sent whole in place of the stream,
   * mapped as the same event inside one; undefined for any other body.
   */
  bodyError(body: unknown): ContinuumError | undefined {
    return isRecord(body) && body.type === 'error' ? this.#streamError(body.error) : undefined
  }

  /** Called when the body ended; throws unless `message_stop` arrived. */
  end(): void {
    if (!this.#done) throw streamEndedEarly(this.#providerId)
  }

  #blockStart(index: unknown, block: unknown): StreamChunk[] {
    if (typeof index !== 'number' || !isRecord(block)) {
      throw protocolError(this.#providerId, 'a content_block_start without index or block')
    }
    if (block.type === 'text' && typeof block.text === 'string' && block.text !== '') {
      return [{ type: 'text-delta', text: block.text }]
    }
    if (block.type !== 'tool_use') return []
    if (typeof block.id !== 'string' || typeof block.name !== 'string') {
      throw protocolError(this.#providerId, 'a tool_use block without id or name')
    }
    const tool: ToolBlock = { index: this.#toolBlocks.size, sentArguments: false }
    this.#toolBlocks.set(index, tool)
    return [
      { type: 'tool-call-delta', index: tool.index, id: block.id, name: block.name, argumentsDelta: '' },
    ]
  }

  #blockDelta(index: unknown, delta: unknown): StreamChunk[] {
    if (typeof index !== 'number' || !isRecord(delta)) {
      throw protocolError(this.#providerId, 'a content_block_delta without index or delta')
    }
    if (delta.type === 'text_delta' && typeof delta.text === 'string') {
      return delta.text === '' ? [] : [{ type: 'text-delta', text: delta.text }]
    }
    if (delta.type === 'input_json_delta' && typeof delta.partial_json === 'string') {
      const tool = this.#toolBlocks.get(index)
      if (tool === undefined)
        throw protocolError(this.#providerId, 'an input_json_delta outside a tool_use block')
      if (delta.partial_json === '') return []
      tool.sentArguments = true
      return [{ type: 'tool-call-delta', index: tool.index, argumentsDelta: delta.partial_json }]
    }
    if (delta.type === 'thinking_delta' && typeof delta.thinking === 'string' && delta.thinking !== '') {
      return [{ type: 'reasoning-delta', text: delta.thinking }]
    }
    if (delta.type === 'citations_delta') {
      return fromAnthropicCitations([delta.citation]).map((citation) => ({ type: 'citation', citation }))
    }
    // signature_delta: a same-dialect client gets it verbatim; it has no canonical form.
    return []
  }

  #streamError(error: unknown): ContinuumError {
    const type = isRecord(error) && typeof error.type === 'string' ? error.type : 'api_error'
    const status = ERROR_STATUS[type] ?? 500
    return providerErrorFromResponse(status, undefined, this.#providerId)
  }
}
