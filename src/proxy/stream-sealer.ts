/**
 * Re-encrypts an upstream stream event by event, with backpressure: each JSON event is field-
 * encrypted and sealed with its sequence number; the authenticated end marker goes out before the
 * protocol's terminal sentinel (`[DONE]`) or at the end. An upstream that fails or stops early
 * produces the protocol's error frame and no end marker, so a client never takes a cut answer for
 * a whole one.
 */

import type { CipherContext } from '../cipher/field-cipher'
import { END_EVENT_NAME } from '../cipher/format'
import { endMarker, sealEvent } from '../cipher/message-codec'
import { ContinuumError } from '../errors'
import type { CompiledStream } from '../protocol/compiled-route'
import { NdjsonDecoder } from '../streams/ndjson'
import { formatSse, SseDecoder, type SseEvent } from '../streams/sse'
import { upstreamError } from './upstream'

const encoder = new TextEncoder()

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

function notAnObject(): ContinuumError {
  return new ContinuumError('CONTINUUM_UPSTREAM_PROTOCOL_ERROR', 'Upstream stream event is not a JSON object')
}

/** Turns a failure inside a stream into the error to report in-band. */
export function streamFailure(error: unknown, signal: AbortSignal): ContinuumError | undefined {
  if (signal.aborted) return undefined
  const failure = upstreamError(error, signal)
  if (failure.code === 'CONTINUUM_UPSTREAM_UNAVAILABLE') {
    return new ContinuumError(
      'CONTINUUM_UPSTREAM_STREAM_ABORTED',
      'Upstream closed the stream before it finished',
      {
        cause: error,
      },
    )
  }
  return failure
}

function earlyEnd(): ContinuumError {
  return new ContinuumError(
    'CONTINUUM_UPSTREAM_STREAM_ABORTED',
    'Upstream ended the stream without its terminal event',
  )
}

/** Optional callbacks of a stream for observers (telemetry): plain events before sealing, and a failure. */
export interface StreamTap {
  /** One plain upstream event, before it is encrypted. */
  event?(event: Record<string, unknown>): void
  /** The stream failed; the error frame went to the client. */
  failure?(error: ContinuumError): void
}

/**
 * Seals the events of one stream. Synchronous, so every event of one upstream network chunk is
 * sealed and written together: one write per chunk, not one per event.
 */
class EventSealer {
  #sequence = 0
  #ended = false
  // Streams whose adapter names a final event (isFinal) are complete only once it went by.
  #finished: boolean

  constructor(
    private readonly stream: CompiledStream,
    private readonly context: CipherContext,
    private readonly tap: StreamTap | undefined,
  ) {
    this.#finished = stream.isFinal === undefined
  }

  #seal(event: Record<string, unknown>, name: string): Record<string, unknown> {
    if (!this.#finished && this.stream.isFinal?.(event, name) === true) this.#finished = true
    this.tap?.event?.(event)
    return sealEvent(this.stream.tree, event, this.context, this.#sequence++, name)
  }

  #endMarker(): string {
    return formatSse({ event: END_EVENT_NAME, data: JSON.stringify(endMarker(this.context, this.#sequence)) })
  }

  sse(events: readonly SseEvent[]): string {
    let text = ''
    for (const event of events) {
      if (this.#ended) continue
      if (this.stream.terminal !== undefined && event.data === this.stream.terminal) {
        this.#ended = true
        text += this.#endMarker() + formatSse({ data: event.data })
        continue
      }
      const name = event.event ?? ''
      const sealed = this.#seal(parseObject(event.data), name)
      text += formatSse(
        name === '' ? { data: JSON.stringify(sealed) } : { event: name, data: JSON.stringify(sealed) },
      )
    }
    return text
  }

  finishSse(): string {
    if (this.#ended) return ''
    if (this.stream.terminal !== undefined || !this.#finished) throw earlyEnd()
    this.#ended = true
    return this.#endMarker()
  }

  ndjson(values: readonly unknown[]): string {
    let text = ''
    for (const value of values) {
      if (!isRecord(value)) throw notAnObject()
      text += `${JSON.stringify(this.#seal(value, ''))}\n`
    }
    return text
  }

  finishNdjson(): string {
    if (!this.#finished) throw earlyEnd()
    return `${JSON.stringify(endMarker(this.context, this.#sequence))}\n`
  }
}

function parseObject(data: string): Record<string, unknown> {
  let parsed: unknown
  try {
    parsed = JSON.parse(data)
  } catch {
    throw notAnObject()
  }
  if (!isRecord(parsed)) throw notAnObject()
  return parsed
}

/** Yields the encrypted stream of an upstream body, one output chunk per upstream chunk. */
export async function* sealStream(
  source: AsyncIterable<Uint8Array>,
  stream: CompiledStream,
  context: CipherContext,
  signal: AbortSignal,
  tap?: StreamTap,
): AsyncGenerator<Uint8Array> {
  const sealer = new EventSealer(stream, context, tap)
  try {
    if (stream.framing === 'sse') {
      const decoder = new SseDecoder()
      for await (const chunk of source) {
        const text = sealer.sse(decoder.push(chunk))
        if (text !== '') yield encoder.encode(text)
      }
      yield encoder.encode(sealer.sse(decoder.end()) + sealer.finishSse())
      return
    }
    const decoder = new NdjsonDecoder()
    for await (const chunk of source) {
      const text = sealer.ndjson(decoder.push(chunk))
      if (text !== '') yield encoder.encode(text)
    }
    yield encoder.encode(sealer.ndjson(decoder.end()) + sealer.finishNdjson())
  } catch (error) {
    const failure = streamFailure(error, signal)
    if (failure !== undefined) {
      tap?.failure?.(failure)
      yield encoder.encode(stream.formatError(failure))
    }
  }
}

/** Passes a plain upstream stream through untouched, appending the protocol's error frame if it breaks. */
export async function* relayStream(
  source: AsyncIterable<Uint8Array>,
  stream: CompiledStream | undefined,
  signal: AbortSignal,
  tap?: StreamTap,
): AsyncGenerator<Uint8Array> {
  try {
    for await (const chunk of source) yield chunk
  } catch (error) {
    const failure = streamFailure(error, signal)
    if (failure !== undefined) tap?.failure?.(failure)
    if (failure === undefined || stream === undefined) throw error
    // The break may fall mid-frame: a blank line closes any partial SSE event first.
    yield encoder.encode((stream.framing === 'sse' ? '\n\n' : '\n') + stream.formatError(failure))
  }
}
