/**
 * Server-Sent Events framing (the WHATWG `text/event-stream` format): an incremental decoder that
 * turns bytes into events, an async parser over it, and a serializer. OpenAI, Anthropic, TGI,
 * Triton's generate_stream and Vertex all stream this way.
 */
import { LineDecoder, type LineSplitterOptions } from './line-splitter'

/** One server-sent event. `event` is absent for the default `message` type. */
export interface SseEvent {
  event?: string
  data: string
  id?: string
  retry?: number
}

/**
 * An incremental, synchronous SSE decoder. Comments are skipped. Unlike a browser's EventSource,
 * `id` is reported only on the event that carried it, which is what a relay needs.
 */
export class SseDecoder {
  readonly #lines: LineDecoder
  #data: string[] = []
  #event: string | undefined
  #id: string | undefined
  #retry: number | undefined

  constructor(options: LineSplitterOptions = {}) {
    this.#lines = new LineDecoder(options)
  }

  /** The events completed by this chunk. */
  push(chunk: Uint8Array): SseEvent[] {
    return this.#consume(this.#lines.push(chunk), false)
  }

  /** Events left when the stream ends (a last event without its blank line is still delivered). */
  end(): SseEvent[] {
    return this.#consume(this.#lines.end(), true)
  }

  #consume(lines: string[], final: boolean): SseEvent[] {
    const events: SseEvent[] = []
    for (const line of lines) {
      if (line === '') {
        this.#dispatch(events)
        continue
      }
      if (line.charCodeAt(0) === 58 /* ':' comment */) continue
      const colon = line.indexOf(':')
      const field = colon === -1 ? line : line.slice(0, colon)
      let value = colon === -1 ? '' : line.slice(colon + 1)
      if (value.charCodeAt(0) === 32) value = value.slice(1)
      if (field === 'data') this.#data.push(value)
      else if (field === 'event') this.#event = value
      else if (field === 'id') {
        if (!value.includes('\0')) this.#id = value
      } else if (field === 'retry' && /^\d+$/.test(value)) this.#retry = Number(value)
    }
    if (final) this.#dispatch(events)
    return events
  }

  #dispatch(events: SseEvent[]): void {
    if (this.#data.length > 0) {
      const event: SseEvent = { data: this.#data.length === 1 ? this.#data[0]! : this.#data.join('\n') }
      if (this.#event !== undefined) event.event = this.#event
      if (this.#id !== undefined) event.id = this.#id
      if (this.#retry !== undefined) event.retry = this.#retry
      events.push(event)
    }
    this.#data = []
    this.#event = undefined
    this.#id = undefined
    this.#retry = undefined
  }
}

/** Parses a `text/event-stream` byte stream into events. */
export async function* parseSse(
  source: AsyncIterable<Uint8Array>,
  options: LineSplitterOptions = {},
): AsyncGenerator<SseEvent> {
  const decoder = new SseDecoder(options)
  for await (const chunk of source) yield* decoder.push(chunk)
  yield* decoder.end()
}

/** Serializes one event, splitting multi-line data over several `data:` lines. */
export function formatSse(event: SseEvent): string {
  let text = ''
  if (event.event !== undefined) text += `event: ${event.event}\n`
  if (event.id !== undefined) text += `id: ${event.id}\n`
  if (event.retry !== undefined) text += `retry: ${event.retry}\n`
  if (event.data.includes('\n') || event.data.includes('\r')) {
    for (const line of event.data.split(/\r\n|\r|\n/)) text += `data: ${line}\n`
  } else {
    text += `data: ${event.data}\n`
  }
  return `${text}\n`
}
