/**
 * OpenAI `chat.completion.chunk` events → canonical stream chunks. Text and tool-call fragments
 * pass through as they arrive; the finish reason and usage are held back and emitted last (usage,
 * then finish) because with `include_usage` OpenAI sends usage in one more chunk after the one that
 * carries `finish_reason`. A stream that stops before any finish reason is reported as cut, never
 * as a short answer.
 */
import {
  ContinuumError,
  type FinishReason,
  providerErrorFromResponse,
  type StreamChunk,
  streamEndedEarly,
  type Usage,
} from '../../../src/provider-kit/index'
import type { OpenAIChatChunk } from './wire'
import {
  fromOpenAIAnnotations,
  fromOpenAIFinishReason,
  fromOpenAIUsage,
  protocolError,
} from './wire-response'

/** Translates one stream; create one per request. */
export class OpenAIStreamTranslator {
  readonly #providerId: string
  #finishReason: FinishReason | undefined
  #usage: Usage | undefined
  #done = false

  constructor(providerId: string) {
    this.#providerId = providerId
  }

  /** Whether `data: [DONE]` arrived. */
  get done(): boolean {
    return this.#done
  }

  /** Translates the data of one SSE event. */
  push(data: string): StreamChunk[] {
    if (this.#done) return []
    if (data === '[DONE]') {
      this.#done = true
      return this.#trailer()
    }
    return this.pushParsed(this.parse(data))
  }

  /** Parses the data of one SSE event (not `[DONE]`). */
  parse(data: string): unknown {
    try {
      return JSON.parse(data)
    } catch {
      // No cause: V8's SyntaxError quotes the event around where it stopped, and that is the answer.
      throw new ContinuumError(
        'CONTINUUM_UPSTREAM_PROTOCOL_ERROR',
        `Provider ${this.#providerId} sent a stream event that is not JSON`,
        { details: { provider: this.#providerId } },
      )
    }
  }

  /** Translates one parsed stream event. */
  pushParsed(parsed: unknown): StreamChunk[] {
    if (this.#done) return []
    const chunk = parsed as OpenAIChatChunk & { error?: unknown }
    if (typeof chunk !== 'object' || chunk === null) throw protocolError(this.#providerId, 'stream chunk')
    if (chunk.error !== undefined) throw this.#streamError(chunk.error)

    const chunks: StreamChunk[] = []
    const usage = fromOpenAIUsage(chunk.usage)
    if (usage !== undefined) this.#usage = usage
    if (!Array.isArray(chunk.choices)) {
      if (usage === undefined) throw protocolError(this.#providerId, 'choices')
      return chunks
    }
    for (const choice of chunk.choices) {
      // The router asks for one choice; a server that sends more is ignored beyond the first.
      if (choice?.index !== undefined && choice.index !== 0) continue
      const delta = choice?.delta
      if (delta !== undefined && delta !== null) {
        if (typeof delta.content === 'string' && delta.content !== '') {
          chunks.push({ type: 'text-delta', text: delta.content })
        }
        if (typeof delta.refusal === 'string' && delta.refusal !== '') {
          chunks.push({ type: 'refusal-delta', text: delta.refusal })
        }
        if (typeof delta.reasoning_content === 'string' && delta.reasoning_content !== '') {
          chunks.push({ type: 'reasoning-delta', text: delta.reasoning_content })
        }
        for (const citation of fromOpenAIAnnotations(delta.annotations, '')) {
          chunks.push({ type: 'citation', citation })
        }
        for (const call of delta.tool_calls ?? []) {
          if (typeof call?.index !== 'number')
            throw protocolError(this.#providerId, 'delta.tool_calls[].index')
          const part: StreamChunk = {
            type: 'tool-call-delta',
            index: call.index,
            argumentsDelta: call.function?.arguments ?? '',
          }
          if (typeof call.id === 'string') part.id = call.id
          if (typeof call.function?.name === 'string') part.name = call.function.name
          chunks.push(part)
        }
      }
      if (typeof choice?.finish_reason === 'string')
        this.#finishReason = fromOpenAIFinishReason(choice.finish_reason)
    }
    return chunks
  }

  /**
   * Called when the body ended. Returns the held-back trailer when the answer finished (some
   * compatible servers omit `[DONE]` after the finish reason); throws when it was cut short.
   */
  end(): StreamChunk[] {
    if (this.#done) return []
    if (this.#finishReason !== undefined) {
      this.#done = true
      return this.#trailer()
    }
    throw streamEndedEarly(this.#providerId)
  }

  #trailer(): StreamChunk[] {
    const chunks: StreamChunk[] = []
    if (this.#usage !== undefined) chunks.push({ type: 'usage', usage: this.#usage })
    chunks.push({ type: 'finish', finishReason: this.#finishReason ?? 'stop' })
    return chunks
  }

  /** An error object sent inside the stream (OpenAI and vLLM do this when generation fails). */
  #streamError(error: unknown): ContinuumError {
    return openAIStreamError(error, this.#providerId)
  }
}

/** The error of an `error` object an OpenAI-shaped server sends inside a stream. */
function openAIStreamError(error: unknown, providerId: string): ContinuumError {
  const code = typeof error === 'object' && error !== null ? (error as { code?: unknown }).code : undefined
  if (typeof code === 'number' && code >= 400 && code < 600) {
    return providerErrorFromResponse(code, undefined, providerId)
  }
  return new ContinuumError(
    'CONTINUUM_PROVIDER_ERROR',
    `Provider ${providerId} reported an error mid-stream`,
    {
      details: { provider: providerId },
      isRetryable: true,
    },
  )
}

/**
 * The error of an `{"error":{...}}` body a server sent whole in place of the stream, mapped as the
 * same object inside one; undefined for any other body.
 */
export function openAIBodyError(body: unknown, providerId: string): ContinuumError | undefined {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return undefined
  const error = (body as { error?: unknown }).error
  return error === undefined || error === null ? undefined : openAIStreamError(error, providerId)
}
