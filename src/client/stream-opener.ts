/**
 * Client side of an encrypted stream: verifies each event's seal in sequence, decrypts it, and
 * re-emits it in the protocol's own framing for the SDK. Anything unsealed, out of order, after
 * the end marker (but the terminal sentinel), or a stream that stops before the end marker
 * becomes an error, never a short answer that looks complete or a chunk the server did not send.
 */

import { END_EVENT_NAME, EVENT_SEAL_KEY } from '../cipher/format'
import { ContinuumError, isErrorCode } from '../errors'
import type { CompiledStream } from '../protocol/compiled-route'
import { parseNdjson } from '../streams/ndjson'
import { formatSse, parseSse } from '../streams/sse'
import {
  type ClientCipherContext as CipherContext,
  isEndMarker,
  openEvent,
  type ClientStreamFailure as StreamFailure,
  verifyEndMarker,
} from './web-crypto/index'

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

function tampered(why: string): ContinuumError {
  return new ContinuumError('CONTINUUM_RESPONSE_INTEGRITY_FAILED', `Encrypted stream ${why}`)
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

/**
 * Where the stream is: events are verified in order until the end marker; then only the
 * protocol's terminal sentinel may follow, once. Every unsealed event, in-band `error` frames and
 * error-looking JSON included, is an integrity failure: the server reports failures only in a
 * sealed failure marker, so an unsealed one was written on the path.
 */
class StreamState {
  sequence = 0
  ended = false
  sentinel = false
  /** The server's sealed failure marker was verified: its error is thrown as it is. */
  failed = false

  constructor(
    readonly stream: CompiledStream,
    readonly context: CipherContext,
  ) {}

  /** Verifies an end marker; throws the failure a failed stream's marker names. */
  async end(marker: unknown): Promise<void> {
    if (!isRecord(marker) || this.ended) throw tampered('carried an unsealed or second end marker')
    const failure = await verifyEndMarker(this.context, this.sequence, marker)
    if (failure !== undefined) {
      this.failed = true
      throw reported(failure)
    }
    this.ended = true
  }

  /** Verifies and decrypts one sealed event. */
  async open(event: unknown, name: string): Promise<Record<string, unknown>> {
    if (this.ended) throw tampered('carried an event after its end marker')
    if (!isRecord(event) || !Object.hasOwn(event, EVENT_SEAL_KEY)) throw tampered('carried an unsealed event')
    const opened = await openEvent(this.stream.tree, event, this.context, this.sequence, name)
    this.sequence++
    return opened
  }
}

/** The decoder reports a stream cut inside an event as an upstream abort; for the client it is a cut. */
function cut(error: unknown, state: StreamState): unknown {
  if (state.failed || !ContinuumError.isInstance(error) || error.code !== 'CONTINUUM_UPSTREAM_STREAM_ABORTED')
    return error
  return state.ended ? tampered('carried a partial event after its end marker') : truncated()
}

/** Verifies and decrypts an encrypted stream, yielding the plain stream bytes. */
export async function* openStream(
  source: AsyncIterable<Uint8Array>,
  stream: CompiledStream,
  context: CipherContext,
): AsyncGenerator<Uint8Array> {
  const state = new StreamState(stream, context)
  try {
    if (stream.framing === 'sse') {
      for await (const event of parseSse(source)) {
        if (event.event === END_EVENT_NAME) {
          await state.end(parseJson(event.data))
          continue
        }
        if (stream.terminal !== undefined && event.data === stream.terminal && event.event === undefined) {
          // A terminal sentinel such as [DONE] is plain: honour it once, after a verified end marker.
          if (!state.ended) throw truncated()
          if (state.sentinel) throw tampered('carried a second terminal sentinel')
          state.sentinel = true
          yield encoder.encode(formatSse({ data: event.data }))
          continue
        }
        if (state.sentinel) throw tampered('carried an event after its terminal sentinel')
        const name = event.event ?? ''
        const opened = await state.open(parseJson(event.data), name)
        const data = JSON.stringify(opened)
        yield encoder.encode(formatSse(name === '' ? { data } : { event: name, data }))
      }
    } else {
      for await (const value of parseNdjson(source)) {
        if (isRecord(value) && isEndMarker(value)) {
          await state.end(value)
          continue
        }
        yield encoder.encode(`${JSON.stringify(await state.open(value, ''))}\n`)
      }
    }
  } catch (error) {
    throw cut(error, state)
  }
  if (!state.ended) throw truncated()
}
