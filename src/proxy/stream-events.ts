/**
 * An upstream's stream, decoded into events by the route's framing (SSE or NDJSON). The decoding
 * is synchronous and incremental: each network chunk becomes the events it completes, each with
 * its parsed object and the JSON text it arrived as. Stages see the events one by one through the
 * public AsyncIterable<StreamEvent>; when no stage took them, the encoder claims the byte source
 * and this decoder instead (`claimRaw`) and handles every event of one read together, with no
 * promise per event. Either way a stream ends normally only when the protocol's end was reached
 * (its terminal sentinel, or its final event); an upstream that stops early, breaks off or sends
 * something that is not a JSON object is an error, so no one takes a cut answer for a whole one.
 */
import { ContinuumError } from '../errors'
import type { CompiledStream } from '../protocol/compiled-route'
import type { StreamEvent } from '../protocol/stream-event'
import { LineDecoder } from '../streams/line-splitter'
import { SseDecoder } from '../streams/sse'
import { jsonTextTooDeep } from './json-depth'
import { MAX_RESPONSE_DEPTH, streamFailure, tooDeep } from './upstream-faults'

/** One decoded event: its object, its SSE name (undefined when unnamed), and its data as received. */
export interface DecodedEvent {
  readonly data: Record<string, unknown>
  readonly name: string | undefined
  readonly text: string
}

function notAnObject(): ContinuumError {
  return new ContinuumError('CONTINUUM_UPSTREAM_PROTOCOL_ERROR', 'Upstream stream event is not a JSON object')
}

function notJson(): ContinuumError {
  return new ContinuumError('CONTINUUM_UPSTREAM_PROTOCOL_ERROR', 'Stream line is not valid JSON')
}

function earlyEnd(): ContinuumError {
  return new ContinuumError(
    'CONTINUUM_UPSTREAM_STREAM_ABORTED',
    'Upstream ended the stream without its terminal event',
  )
}

/** Parses an event's JSON object; `invalid` is the error of text that is not JSON at all. */
function parseObject(text: string, invalid: () => ContinuumError = notAnObject): Record<string, unknown> {
  if (jsonTextTooDeep(text, MAX_RESPONSE_DEPTH)) throw tooDeep()
  let parsed: unknown
  try {
    parsed = JSON.parse(text)
  } catch {
    throw invalid()
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw notAnObject()
  return parsed as Record<string, unknown>
}

/** The synchronous decoder: bytes in, events out; throws ContinuumErrors for protocol faults. */
export class StreamEventDecoder {
  readonly #stream: CompiledStream
  readonly #sse: SseDecoder | undefined
  readonly #lines: LineDecoder | undefined
  /** The terminal sentinel went by: anything after it is ignored. */
  #ended = false
  /** The protocol's end was reached. */
  #finished: boolean

  constructor(stream: CompiledStream) {
    this.#stream = stream
    if (stream.framing === 'sse') this.#sse = new SseDecoder()
    else this.#lines = new LineDecoder()
    // A stream without a terminal sentinel or a final event is complete when it ends cleanly.
    this.#finished = stream.isFinal === undefined && stream.terminal === undefined
  }

  /** The events this chunk completes. */
  push(chunk: Uint8Array): DecodedEvent[] {
    const events: DecodedEvent[] = []
    if (this.#sse !== undefined) {
      for (const event of this.#sse.push(chunk)) this.#take(event.data, event.event, events)
    } else {
      for (const line of this.#lines!.push(chunk)) this.#takeLine(line, events)
    }
    return events
  }

  /** The events a clean end completes; throws when the stream ended before the protocol's end. */
  end(): DecodedEvent[] {
    const events: DecodedEvent[] = []
    if (this.#sse !== undefined) {
      for (const event of this.#sse.end()) this.#take(event.data, event.event, events)
    } else {
      for (const line of this.#lines!.end()) this.#takeLine(line, events)
    }
    if (!this.#finished) throw earlyEnd()
    return events
  }

  #take(text: string, name: string | undefined, events: DecodedEvent[]): void {
    if (this.#ended) return
    const stream = this.#stream
    if (stream.terminal !== undefined && text === stream.terminal) {
      this.#ended = true
      this.#finished = true
      return
    }
    const data = parseObject(text)
    if (!this.#finished && stream.isFinal?.(data, name ?? '') === true) this.#finished = true
    events.push({ data, name, text })
  }

  #takeLine(line: string, events: DecodedEvent[]): void {
    if (line.trim() === '') return
    const data = parseObject(line, notJson)
    if (!this.#finished && this.#stream.isFinal?.(data, '') === true) this.#finished = true
    events.push({ data, name: undefined, text: line })
  }
}

/** What the encoder takes over when no stage took the events: the bytes and their decoder. */
export interface RawEventSource {
  readonly source: AsyncIterable<Uint8Array>
  readonly decoder: StreamEventDecoder
  readonly signal: AbortSignal
}

const RAW = Symbol.for('continuum-proxy.raw-event-source')

/**
 * An upstream stream as events. Iterated (by a stage, or by the encoder when a stage replaced it),
 * it yields StreamEvents; untouched, the encoder claims its raw source instead. It can be consumed
 * once, either way.
 */
export class DecodedEvents implements AsyncIterable<StreamEvent> {
  readonly #source: AsyncIterable<Uint8Array>
  readonly #stream: CompiledStream
  readonly #signal: AbortSignal
  #claimed = false

  constructor(source: AsyncIterable<Uint8Array>, stream: CompiledStream, signal: AbortSignal) {
    this.#source = source
    this.#stream = stream
    this.#signal = signal
  }

  #claim(): void {
    if (this.#claimed) throw new TypeError('A stream of events can be read once')
    this.#claimed = true
  }

  /** Hands the byte source and a decoder to the encoder; undefined once read. */
  [RAW](): RawEventSource | undefined {
    if (this.#claimed) return undefined
    this.#claimed = true
    return { source: this.#source, decoder: new StreamEventDecoder(this.#stream), signal: this.#signal }
  }

  [Symbol.asyncIterator](): AsyncIterator<StreamEvent> {
    this.#claim()
    return this.#events()
  }

  async *#events(): AsyncGenerator<StreamEvent> {
    const decoder = new StreamEventDecoder(this.#stream)
    try {
      for await (const chunk of this.#source) {
        for (const event of decoder.push(chunk)) yield toStreamEvent(event)
      }
      for (const event of decoder.end()) yield toStreamEvent(event)
    } catch (error) {
      if (ContinuumError.isInstance(error)) throw error
      throw streamFailure(error, this.#signal) ?? error
    }
  }
}

function toStreamEvent(event: DecodedEvent): StreamEvent {
  return event.name === undefined ? { data: event.data } : { data: event.data, name: event.name }
}

/** The raw source of events no stage read, for the encoder; undefined for any other iterable. */
export function claimRawEvents(events: AsyncIterable<StreamEvent>): RawEventSource | undefined {
  return events instanceof DecodedEvents ? events[RAW]() : undefined
}
