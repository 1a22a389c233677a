/**
 * Canonical stream chunks → the Anthropic Messages event stream, for the gateway: `message_start`,
 * then one content block at a time (`content_block_start`, `text_delta` or `input_json_delta`
 * deltas, `content_block_stop`), `message_delta` with the stop reason and usage, `message_stop`.
 * Canonical tool-call indexes count tool calls only, so each gets the next block index. A failure
 * becomes `event: error` and the stream ends without `message_stop`.
 */
import { ContinuumError } from '../../../src/errors'
import { newToolCallId } from '../../../src/provider-kit/canonical-helpers'
import type { StreamChunk, Usage } from '../../../src/router/canonical'
import { formatSse } from '../../../src/streams/sse'
import { toAnthropicError, toAnthropicStopReason } from './response'

/** The open content block: text, or the tool call with this canonical index. */
type OpenBlock = { kind: 'text' } | { kind: 'tool'; toolIndex: number }

/** Encodes one stream; create one per request. */
export class AnthropicEventEncoder {
  readonly #id: string
  readonly #model: string
  readonly #closedTools = new Set<number>()
  #nextBlock = 0
  #open: OpenBlock | undefined
  #usage: Usage | undefined
  #started = false
  #finished = false

  constructor(options: { id: string; model: string }) {
    this.#id = options.id
    this.#model = options.model
  }

  /** Whether `message_stop` went out. */
  get finished(): boolean {
    return this.#finished
  }

  /** `message_start`, sent before the first chunk. */
  start(): string {
    this.#started = true
    return this.#event('message_start', {
      type: 'message_start',
      message: {
        id: this.#id,
        type: 'message',
        role: 'assistant',
        model: this.#model,
        content: [],
        stop_reason: null,
        stop_sequence: null,
        // Canonical usage arrives at the end; message_delta carries the counts.
        usage: { input_tokens: 0, output_tokens: 0 },
      },
    })
  }

  /** The SSE text of one canonical chunk (possibly empty). */
  push(chunk: StreamChunk): string {
    let text = this.#started ? '' : this.start()
    switch (chunk.type) {
      case 'text-delta':
        if (chunk.text === '') return text
        if (this.#open?.kind !== 'text') text += this.#openBlock({ kind: 'text' }, { type: 'text', text: '' })
        return text + this.#delta({ type: 'text_delta', text: chunk.text })
      case 'tool-call-delta': {
        const open = this.#open
        if (open?.kind !== 'tool' || open.toolIndex !== chunk.index) {
          if (this.#closedTools.has(chunk.index)) {
            // Anthropic blocks cannot be reopened; interleaved tool calls have no faithful rendering.
            throw new ContinuumError(
              'CONTINUUM_UPSTREAM_PROTOCOL_ERROR',
              'The provider interleaved tool calls, which the Anthropic stream format cannot carry',
            )
          }
          text += this.#openBlock(
            { kind: 'tool', toolIndex: chunk.index },
            { type: 'tool_use', id: chunk.id ?? newToolCallId(), name: chunk.name ?? '', input: {} },
          )
        }
        if (chunk.argumentsDelta === '') return text
        return text + this.#delta({ type: 'input_json_delta', partial_json: chunk.argumentsDelta })
      }
      case 'usage':
        this.#usage = chunk.usage
        return text
      case 'finish':
        this.#finished = true
        return (
          text +
          this.#closeBlock() +
          this.#event('message_delta', {
            type: 'message_delta',
            delta: { stop_reason: toAnthropicStopReason(chunk.finishReason), stop_sequence: null },
            usage: {
              input_tokens: this.#usage?.inputTokens ?? 0,
              output_tokens: this.#usage?.outputTokens ?? 0,
            },
          }) +
          this.#event('message_stop', { type: 'message_stop' })
        )
      case 'error':
        return text + this.error(chunk.error)
    }
  }

  /** The in-stream error event. */
  error(error: ContinuumError): string {
    return this.#event('error', toAnthropicError(error))
  }

  #openBlock(block: OpenBlock, contentBlock: Record<string, unknown>): string {
    const text = this.#closeBlock()
    this.#open = block
    return (
      text +
      this.#event('content_block_start', {
        type: 'content_block_start',
        index: this.#nextBlock,
        content_block: contentBlock,
      })
    )
  }

  #closeBlock(): string {
    if (this.#open === undefined) return ''
    if (this.#open.kind === 'tool') this.#closedTools.add(this.#open.toolIndex)
    this.#open = undefined
    return this.#event('content_block_stop', { type: 'content_block_stop', index: this.#nextBlock++ })
  }

  #delta(delta: Record<string, unknown>): string {
    return this.#event('content_block_delta', { type: 'content_block_delta', index: this.#nextBlock, delta })
  }

  #event(name: string, data: unknown): string {
    return formatSse({ event: name, data: JSON.stringify(data) })
  }
}
