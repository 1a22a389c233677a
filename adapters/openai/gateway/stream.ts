/**
 * Canonical stream chunks → OpenAI `chat.completion.chunk` events, for the gateway. The first
 * event carries the assistant role; text and tool-call fragments follow as they arrive (tool calls
 * keep their index, and their id, type and name ride on the first fragment only, as OpenAI sends
 * them); the finish reason gets its own event, and usage one more when the client asked for
 * `include_usage`. The pipeline frames them and adds `data: [DONE]` (the route's terminal) once
 * the stream finished, or the route's error frame when it failed.
 */
import type { GatewayStreamWriter, StreamChunk, StreamEvent, Usage } from '../../../src/index'
import type { OpenAIChatChunk, OpenAIToolCallDelta } from '../provider/wire'
import { toOpenAIAnnotation, toOpenAIFinishReason, toOpenAIUsage } from './response'

type Delta = OpenAIChatChunk['choices'][number]['delta']

/** Encodes one stream; create one per request. */
export class OpenAIChunkEncoder implements GatewayStreamWriter {
  readonly #id: string
  readonly #model: string
  readonly #created: number
  readonly #includeUsage: boolean
  readonly #namedTools = new Set<number>()
  #started = false
  #usage: Usage | undefined
  #finished = false
  /** Decided by the first chunk: a same-dialect provider's own events are relayed as they came. */
  #native: boolean | undefined

  constructor(options: { id: string; model: string; created: number; includeUsage: boolean }) {
    this.#id = options.id
    this.#model = options.model
    this.#created = options.created
    this.#includeUsage = options.includeUsage
  }

  /** Whether the finish chunk went out (the stream may then end with `[DONE]`). */
  get finished(): boolean {
    return this.#finished
  }

  /** The events of one canonical chunk (possibly none). */
  push(chunk: StreamChunk): StreamEvent[] {
    this.#native ??= chunk.type === 'native' && chunk.dialect === 'openai-chat'
    if (this.#native) return this.#relay(chunk)
    switch (chunk.type) {
      case 'native':
        return []
      case 'reasoning-delta':
        return [this.#event({ reasoning_content: chunk.text })]
      case 'refusal-delta':
        return [this.#event({ refusal: chunk.text })]
      case 'citation':
        return [this.#event({ annotations: [toOpenAIAnnotation(chunk.citation)] })]
      case 'text-delta':
        return chunk.text === '' ? [] : [this.#event({ content: chunk.text })]
      case 'tool-call-delta': {
        const call: OpenAIToolCallDelta = { index: chunk.index }
        const first = !this.#namedTools.has(chunk.index)
        if (first) {
          this.#namedTools.add(chunk.index)
          if (chunk.id !== undefined) call.id = chunk.id
          call.type = 'function'
          call.function = { name: chunk.name ?? '', arguments: chunk.argumentsDelta }
        } else {
          call.function = { arguments: chunk.argumentsDelta }
        }
        return [this.#event({ tool_calls: [call] })]
      }
      case 'usage':
        this.#usage = chunk.usage
        return []
      case 'finish': {
        this.#finished = true
        const events = [this.#event({}, toOpenAIFinishReason(chunk.finishReason))]
        if (this.#includeUsage && this.#usage !== undefined) {
          events.push({ data: { ...this.#base(), choices: [], usage: toOpenAIUsage(this.#usage) } })
        }
        return events
      }
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
    const data: Record<string, unknown> = { ...chunk.event.data, model: this.#model }
    if (!this.#includeUsage) {
      // The router always asks for usage; a client that did not gets no usage chunk.
      if (Array.isArray(data.choices) && data.choices.length === 0 && data.usage !== undefined) return []
      delete data.usage
    }
    return [{ data }]
  }

  #base(): Omit<OpenAIChatChunk, 'choices'> {
    return { id: this.#id, object: 'chat.completion.chunk', created: this.#created, model: this.#model }
  }

  #event(delta: Delta, finishReason: string | null = null): StreamEvent {
    // The role rides on the first event, as OpenAI sends it.
    const withRole: Delta = this.#started ? delta : { role: 'assistant', ...delta }
    this.#started = true
    return {
      data: {
        ...this.#base(),
        choices: [{ index: 0, delta: withRole, finish_reason: finishReason }],
      },
    }
  }
}
