/**
 * Client side of an encrypted stream: verifies each event's seal in sequence, decrypts it, and
 * re-emits it in the protocol's own framing for the SDK. Anything unsealed, out of order, after
 * the end marker, or a stream that stops before the end marker becomes an error, never a short
 * answer that looks complete.
 */

import type { CipherContext } from '../cipher/field-cipher'
import { END_EVENT_NAME, EVENT_SEAL_KEY } from '../cipher/format'
import { isEndMarker, openEvent, type StreamFailure, verifyEndMarker } from '../cipher/message-codec'
import { ContinuumError, isErrorCode } from '../errors'
import type { CompiledStream } from '../protocol/compiled-route'
import { parseNdjson } from '../streams/ndjson'
import { formatSse, parseSse } from '../streams/sse'

const encoder = new TextEncoder()

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text)
  } catch {
    return undefined
  }
}

/** The error a server reported in-band, or an integrity failure for any other unsealed event. */
function unsealed(event: Record<string, unknown> | undefined): ContinuumError {
  const reported = event?.error
  const body = isRecord(reported) ? reported : event
  const code = body?.code
  if (isErrorCode(code)) {
    return new ContinuumError(
      code,
      typeof body?.message === 'string' ? body.message : 'Server reported an error in the stream',
    )
  }
  return new ContinuumError('CONTINUUM_RESPONSE_INTEGRITY_FAILED', 'Stream carried an unsealed event')
}

/** The failure a verified failure marker reports, as the error it names. */
function reported(failure: StreamFailure): ContinuumError {
  return isErrorCode(failure.code)
    ? new ContinuumError(failure.code, failure.message)
    : new ContinuumError('CONTINUUM_UPSTREAM_STREAM_ABORTED', failure.message)
}

function truncated(): ContinuumError {
  return new ContinuumError('CONTINUUM_STREAM_TRUNCATED', 'Encrypted stream ended without its end marker')
}

/** Verifies and decrypts an encrypted stream, yielding the plain stream bytes. */
export async function* openStream(
  source: AsyncIterable<Uint8Array>,
  stream: CompiledStream,
  context: CipherContext,
): AsyncGenerator<Uint8Array> {
  let sequence = 0
  let ended = false
  if (stream.framing === 'sse') {
    for await (const event of parseSse(source)) {
      const parsed = parseJson(event.data)
      if (event.event === END_EVENT_NAME) {
        if (!isRecord(parsed) || ended) throw unsealed(undefined)
        const failure = verifyEndMarker(context, sequence, parsed)
        if (failure !== undefined) throw reported(failure)
        ended = true
        continue
      }
      if (!isRecord(parsed)) {
        // A terminal sentinel such as [DONE] is plain: honour it only after a verified end marker.
        if (!ended) throw truncated()
        yield encoder.encode(formatSse({ data: event.data }))
        continue
      }
      if (!Object.hasOwn(parsed, EVENT_SEAL_KEY) || ended) throw unsealed(parsed)
      const name = event.event ?? ''
      const opened = openEvent(stream.tree, parsed, context, sequence, name)
      sequence++
      yield encoder.encode(
        formatSse(
          name === '' ? { data: JSON.stringify(opened) } : { event: name, data: JSON.stringify(opened) },
        ),
      )
    }
  } else {
    for await (const value of parseNdjson(source)) {
      if (!isRecord(value) || ended) throw unsealed(isRecord(value) ? value : undefined)
      if (isEndMarker(value)) {
        const failure = verifyEndMarker(context, sequence, value)
        if (failure !== undefined) throw reported(failure)
        ended = true
        continue
      }
      if (!Object.hasOwn(value, EVENT_SEAL_KEY)) throw unsealed(value)
      const opened = openEvent(stream.tree, value, context, sequence, '')
      sequence++
      yield encoder.encode(`${JSON.stringify(opened)}\n`)
    }
  }
  if (!ended) throw truncated()
}
