/**
 * Canonical stream chunks → OpenAI `chat.completion.chunk` SSE events, for the gateway. The first
 * event carries the assistant role; text and tool-call fragments follow as they arrive (tool calls
 * keep their index, and their id, type and name ride on the first fragment only, as OpenAI sends
 * them); the finish reason gets its own event, usage one more when the client asked for
 * `include_usage`, then `data: [DONE]`. A failure becomes `data: {"error":{...}}` and the stream
 * ends without `[DONE]`, so no client takes a cut answer for a whole one.
 */
import type { ContinuumError } from '../../../src/errors'
import type { StreamChunk, Usage } from '../../../src/router/canonical'
import type { OpenAIChatChunk, OpenAIToolCallDelta } from '../provider/wire'
import { toOpenAIError, toOpenAIFinishReason, toOpenAIUsage } from './response'

type Delta = OpenAIChatChunk['choices'][number]['delta']

/** Encodes one stream; create one per request. */
export class OpenAIChunkEncoder {
  readonly #id: string
  readonly #model: string
  readonly #created: number
  readonly #includeUsage: boolean
  readonly #namedTools = new Set<number>()
  #started = false
  #usage: Usage | undefined
  #finished = false

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

  /** The SSE text of one canonical chunk (possibly empty). */
  push(chunk: StreamChunk): string {
    switch (chunk.type) {
      case 'text-delta':
        return chunk.text === '' ? '' : this.#event({ content: chunk.text })
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
        return this.#event({ tool_calls: [call] })
      }
      case 'usage':
        this.#usage = chunk.usage
        return ''
      case 'finish': {
        this.#finished = true
        let text = this.#event({}, toOpenAIFinishReason(chunk.finishReason))
        if (this.#includeUsage && this.#usage !== undefined) {
          text += this.#data({ ...this.#base(), choices: [], usage: toOpenAIUsage(this.#usage) })
        }
        return text
      }
      case 'error':
        return this.error(chunk.error)
    }
  }

  /** `data: [DONE]`, the terminal sentinel. */
  done(): string {
    return 'data: [DONE]\n\n'
  }

  /** The in-stream error event. */
  error(error: ContinuumError): string {
    return this.#data(toOpenAIError(error))
  }

  #base(): Omit<OpenAIChatChunk, 'choices'> {
    return { id: this.#id, object: 'chat.completion.chunk', created: this.#created, model: this.#model }
  }

  #event(delta: Delta, finishReason: string | null = null): string {
    // The role rides on the first event, as OpenAI sends it.
    const withRole: Delta = this.#started ? delta : { role: 'assistant', ...delta }
    this.#started = true
    return this.#data({
      ...this.#base(),
      choices: [{ index: 0, delta: withRole, finish_reason: finishReason }],
    })
  }

  #data(value: unknown): string {
    return `data: ${JSON.stringify(value)}\n\n`
  }
}
