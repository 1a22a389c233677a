/**
 * Re-encrypts an upstream stream event by event, with backpressure: each JSON event is field-
 * encrypted and sealed with its sequence number; the authenticated end marker goes out before the
 * protocol's terminal sentinel (`[DONE]`) or at the end. An upstream that fails or stops early
 * produces the protocol's error frame and no end marker, so a client never takes a cut answer for
 * a whole one.
 */
import type { CompiledStream } from '../adapters/compiled-route'
import type { CipherContext } from '../cipher/field-cipher'
import { END_EVENT_NAME } from '../cipher/format'
import { endMarker, sealEvent } from '../cipher/message-codec'
import { ContinuumError } from '../errors'
import { parseNdjson } from '../streams/ndjson'
import { formatSse, parseSse } from '../streams/sse'
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

/** Yields the encrypted stream of an upstream body. */
export async function* sealStream(
  source: AsyncIterable<Uint8Array>,
  stream: CompiledStream,
  context: CipherContext,
  signal: AbortSignal,
): AsyncGenerator<Uint8Array> {
  let sequence = 0
  // Streams whose adapter names a final event are complete only once it went by.
  let finished = stream.isFinal === undefined
  try {
    if (stream.framing === 'sse') {
      let ended = false
      for await (const event of parseSse(source)) {
        if (ended) continue
        if (stream.terminal !== undefined && event.data === stream.terminal) {
          ended = true
          yield encoder.encode(
            formatSse({ event: END_EVENT_NAME, data: JSON.stringify(endMarker(context, sequence)) }) +
              formatSse({ data: event.data }),
          )
          continue
        }
        let parsed: unknown
        try {
          parsed = JSON.parse(event.data)
        } catch {
          throw notAnObject()
        }
        if (!isRecord(parsed)) throw notAnObject()
        const name = event.event ?? ''
        if (!finished && stream.isFinal?.(parsed, name) === true) finished = true
        const sealed = sealEvent(stream.tree, parsed, context, sequence, name)
        sequence++
        yield encoder.encode(
          formatSse(
            name === '' ? { data: JSON.stringify(sealed) } : { event: name, data: JSON.stringify(sealed) },
          ),
        )
      }
      if (!ended) {
        if (stream.terminal !== undefined || !finished) throw earlyEnd()
        yield encoder.encode(
          formatSse({ event: END_EVENT_NAME, data: JSON.stringify(endMarker(context, sequence)) }),
        )
      }
      return
    }
    for await (const value of parseNdjson(source)) {
      if (!isRecord(value)) throw notAnObject()
      if (!finished && stream.isFinal?.(value, '') === true) finished = true
      const sealed = sealEvent(stream.tree, value, context, sequence, '')
      sequence++
      yield encoder.encode(`${JSON.stringify(sealed)}\n`)
    }
    if (!finished) throw earlyEnd()
    yield encoder.encode(`${JSON.stringify(endMarker(context, sequence))}\n`)
  } catch (error) {
    const failure = streamFailure(error, signal)
    if (failure !== undefined) yield encoder.encode(stream.formatError(failure))
  }
}

/** Passes a plain upstream stream through untouched, appending the protocol's error frame if it breaks. */
export async function* relayStream(
  source: AsyncIterable<Uint8Array>,
  stream: CompiledStream | undefined,
  signal: AbortSignal,
): AsyncGenerator<Uint8Array> {
  try {
    for await (const chunk of source) yield chunk
  } catch (error) {
    const failure = streamFailure(error, signal)
    if (failure === undefined || stream === undefined) throw error
    // The break may fall mid-frame: a blank line closes any partial SSE event first.
    yield encoder.encode((stream.framing === 'sse' ? '\n\n' : '\n') + stream.formatError(failure))
  }
}
