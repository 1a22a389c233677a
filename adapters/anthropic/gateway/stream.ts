/**
 * Canonical stream chunks → the Anthropic Messages event stream, for the gateway: `message_start`,
 * then one content block at a time (`content_block_start`, `text_delta` or `input_json_delta`
 * deltas, `content_block_stop`), `message_delta` with the stop reason and usage, `message_stop`.
 * Canonical tool-call indexes count tool calls only, so each gets the next block index. The
 * pipeline frames the events; a failure gets the route's `event: error` frame and no `message_stop`.
 */
import {
  ContinuumError,
  type GatewayStreamWriter,
  type StreamChunk,
  type StreamEvent,
  type Usage,
} from '../../../src/index'
import { newToolCallId } from '../../../src/provider-kit/index'
import { toAnthropicCitation, toAnthropicStopReason, toAnthropicUsage } from './response'

/** The open content block: text, thinking, or the tool call with this canonical index. */
type OpenBlock = { kind: 'text' } | { kind: 'thinking' } | { kind: 'tool'; toolIndex: number }

/** Encodes one stream; create one per request. */
export class AnthropicEventEncoder implements GatewayStreamWriter {
  readonly #id: string
  readonly #model: string
  readonly #closedTools = new Set<number>()
  #nextBlock = 0
  #open: OpenBlock | undefined
  #usage: Usage | undefined
  #started = false
  #finished = false
  #refused = false
  /** Decided by the first chunk: a same-dialect provider's own events are relayed as they came. */
  #native: boolean | undefined

  constructor(options: { id: string; model: string }) {
    this.#id = options.id
    this.#model = options.model
  }

  /** Whether `message_stop` went out. */
  get finished(): boolean {
    return this.#finished
  }

  /** `message_start`, sent before the first chunk. */
  start(): StreamEvent {
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

  /** The events of one canonical chunk (possibly none). */
  push(chunk: StreamChunk): StreamEvent[] {
    this.#native ??= chunk.type === 'native' && chunk.dialect === 'anthropic-messages'
    if (this.#native) return this.#relay(chunk)
    const events: StreamEvent[] = this.#started ? [] : [this.start()]
    switch (chunk.type) {
      case 'native':
        return events
      case 'reasoning-delta':
        if (this.#open?.kind !== 'thinking') {
          this.#openBlock(events, { kind: 'thinking' }, { type: 'thinking', thinking: '', signature: '' })
        }
        events.push(this.#delta({ type: 'thinking_delta', thinking: chunk.text }))
        return events
      case 'refusal-delta':
        this.#refused = true
        if (this.#open?.kind !== 'text') this.#openBlock(events, { kind: 'text' }, { type: 'text', text: '' })
        events.push(this.#delta({ type: 'text_delta', text: chunk.text }))
        return events
      case 'citation':
        if (this.#open?.kind !== 'text') this.#openBlock(events, { kind: 'text' }, { type: 'text', text: '' })
        events.push(this.#delta({ type: 'citations_delta', citation: toAnthropicCitation(chunk.citation) }))
        return events
      case 'text-delta':
        if (chunk.text === '') return events
        if (this.#open?.kind !== 'text') this.#openBlock(events, { kind: 'text' }, { type: 'text', text: '' })
        events.push(this.#delta({ type: 'text_delta', text: chunk.text }))
        return events
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
          this.#openBlock(
            events,
            { kind: 'tool', toolIndex: chunk.index },
            { type: 'tool_use', id: chunk.id ?? newToolCallId(), name: chunk.name ?? '', input: {} },
          )
        }
        if (chunk.argumentsDelta !== '') {
          events.push(this.#delta({ type: 'input_json_delta', partial_json: chunk.argumentsDelta }))
        }
        return events
      }
      case 'usage':
        this.#usage = chunk.usage
        return events
      case 'finish':
        this.#finished = true
        this.#closeBlock(events)
        events.push(
          this.#event('message_delta', {
            type: 'message_delta',
            delta: {
              stop_reason: this.#refused ? 'refusal' : toAnthropicStopReason(chunk.finishReason),
              stop_sequence: null,
            },
            usage: toAnthropicUsage(this.#usage),
          }),
          this.#event('message_stop', { type: 'message_stop' }),
        )
        return events
      case 'error':
        // The gateway turns an error chunk into the route's error frame before it gets here.
        throw chunk.error
    }
  }

  /** Native mode: the provider's events under the public model name; canonical chunks only mark the end. */
  #relay(chunk: StreamChunk): StreamEvent[] {
    if (chunk.type === 'finish') this.#finished = true
    if (chunk.type === 'error') throw chunk.error
    if (chunk.type !== 'native') return []
    const { name, data } = chunk.event
    if (data.type === 'message_start' && typeof data.message === 'object' && data.message !== null) {
      return [{ name: 'message_start', data: { ...data, message: { ...data.message, model: this.#model } } }]
    }
    return [name === undefined ? { data } : { name, data }]
  }

  #openBlock(events: StreamEvent[], block: OpenBlock, contentBlock: Record<string, unknown>): void {
    this.#closeBlock(events)
    this.#open = block
    events.push(
      this.#event('content_block_start', {
        type: 'content_block_start',
        index: this.#nextBlock,
        content_block: contentBlock,
      }),
    )
  }

  #closeBlock(events: StreamEvent[]): void {
    if (this.#open === undefined) return
    if (this.#open.kind === 'tool') this.#closedTools.add(this.#open.toolIndex)
    this.#open = undefined
    events.push(this.#event('content_block_stop', { type: 'content_block_stop', index: this.#nextBlock++ }))
  }

  #delta(delta: Record<string, unknown>): StreamEvent {
    return this.#event('content_block_delta', { type: 'content_block_delta', index: this.#nextBlock, delta })
  }

  #event(name: string, data: Record<string, unknown>): StreamEvent {
    return { name, data }
  }
}
