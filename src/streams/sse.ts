/**
 * Server-Sent Events framing (the WHATWG `text/event-stream` format): an incremental decoder that
 * turns bytes into events, an async parser over it, and a serializer (in sse-format.ts, so writing
 * a frame does not load the decoder). OpenAI, Anthropic, TGI, Triton's generate_stream and Vertex
 * all stream this way. Decoding follows the WHATWG "interpret an event stream" algorithm, with two bounds (line and event size) and one strictness
 * a relay needs: a stream that ends inside an event (fields without their blank line) is not
 * quietly shortened, as a browser would, but raises CONTINUUM_UPSTREAM_STREAM_ABORTED.
 */
import { ContinuumError } from '../errors'
import { bound, LineDecoder, type LineSplitterOptions } from './line-splitter'
import type { SseEvent } from './sse-format'

/** Options of {@link SseDecoder} and {@link parseSse}. */
export interface SseDecoderOptions extends LineSplitterOptions {
  /**
   * Largest event accepted (its data lines together, in UTF-16 code units); a larger one raises
   * CONTINUUM_UPSTREAM_PROTOCOL_ERROR, so data lines without a blank line cannot grow memory
   * without limit.
   * @default 8388608 (8 MiB)
   */
  maxEventLength?: number
}

const DEFAULT_MAX_EVENT_LENGTH = 8 * 1024 * 1024

/**
 * An incremental, synchronous SSE decoder. Comments are skipped. Unlike a browser's EventSource,
 * `id` is reported only on the event that carried it, which is what a relay needs.
 */
export class SseDecoder {
  readonly #lines: LineDecoder
  readonly #maxEventLength: number
  #data: string[] = []
  #dataLength = 0
  #event: string | undefined
  #id: string | undefined
  #retry: number | undefined
  /** Whether a field arrived since the last blank line (an event is open). */
  #open = false

  constructor(options: SseDecoderOptions = {}) {
    this.#lines = new LineDecoder(options)
    this.#maxEventLength = bound(options.maxEventLength, DEFAULT_MAX_EVENT_LENGTH, 'maxEventLength')
  }

  /** The events completed by this chunk. */
  push(chunk: Uint8Array): SseEvent[] {
    const events: SseEvent[] = []
    for (const line of this.#lines.push(chunk)) this.#line(line, events)
    return events
  }

  /**
   * Ends the stream. An event without its blank line is never dispatched (the WHATWG algorithm
   * discards it); when one was open, or a line was cut, this throws
   * CONTINUUM_UPSTREAM_STREAM_ABORTED, since the sender stopped mid-event.
   */
  end(): SseEvent[] {
    const rest = this.#lines.end()
    if (rest.length > 0 || this.#open) {
      this.#reset()
      throw new ContinuumError('CONTINUUM_UPSTREAM_STREAM_ABORTED', 'Stream ended inside an event')
    }
    return []
  }

  #line(line: string, events: SseEvent[]): void {
    if (line === '') {
      this.#dispatch(events)
      return
    }
    if (line.charCodeAt(0) === 58 /* ':' comment */) return
    const colon = line.indexOf(':')
    const field = colon === -1 ? line : line.slice(0, colon)
    let value = colon === -1 ? '' : line.slice(colon + 1)
    if (value.charCodeAt(0) === 32) value = value.slice(1)
    this.#open = true
    if (field === 'data') {
      this.#dataLength += value.length + 1
      if (this.#dataLength > this.#maxEventLength) {
        this.#reset()
        throw new ContinuumError(
          'CONTINUUM_UPSTREAM_PROTOCOL_ERROR',
          `Stream event larger than ${this.#maxEventLength} characters`,
          { details: { limit: this.#maxEventLength } },
        )
      }
      this.#data.push(value)
    } else if (field === 'event') this.#event = value === '' ? undefined : value
    else if (field === 'id') {
      if (!value.includes('\0')) this.#id = value
    } else if (field === 'retry' && /^\d+$/.test(value)) this.#retry = Number(value)
  }

  #dispatch(events: SseEvent[]): void {
    if (this.#data.length > 0) {
      const event: SseEvent = { data: this.#data.length === 1 ? this.#data[0]! : this.#data.join('\n') }
      if (this.#event !== undefined) event.event = this.#event
      if (this.#id !== undefined) event.id = this.#id
      if (this.#retry !== undefined) event.retry = this.#retry
      events.push(event)
    }
    this.#reset()
  }

  #reset(): void {
    this.#data = []
    this.#dataLength = 0
    this.#event = undefined
    this.#id = undefined
    this.#retry = undefined
    this.#open = false
  }
}

/** Parses a `text/event-stream` byte stream into events. */
export async function* parseSse(
  source: AsyncIterable<Uint8Array>,
  options: SseDecoderOptions = {},
): AsyncGenerator<SseEvent> {
  const decoder = new SseDecoder(options)
  for await (const chunk of source) yield* decoder.push(chunk)
  yield* decoder.end()
}

export { formatSse, type SseEvent } from './sse-format'
