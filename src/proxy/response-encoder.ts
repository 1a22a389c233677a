/**
 * The last step of an exchange: the plain response becomes what goes on the wire. On an encrypted
 * exchange a JSON body is field-encrypted and sealed (the seal binds the status), and a stream is
 * sealed event by event with its sequence number, followed by the authenticated end marker before
 * the protocol's terminal sentinel (or at the end); a stream that fails gets a sealed failure end
 * marker naming the error (a plain stream: the protocol's error event). Plain exchanges are framed the same way without the cipher, and plain
 * bytes are relayed untouched. The facts telemetry and audit read are gathered here, once.
 */
import type { CipherContext } from '../cipher/field-cipher'
import type { PlainFieldTree } from '../cipher/field-map'
import { END_EVENT_NAME, HEADERS } from '../cipher/format'
import { endMarker, failureMarker, sealEvent, sealResponse } from '../cipher/message-codec'
import type { CoreResponse } from '../core/http'
import { ContinuumError } from '../errors'
import type { CompiledStream } from '../protocol/compiled-route'
import type { StreamEvent } from '../protocol/stream-event'
import { formatSse } from '../streams/sse'
import type { ExchangeResponse } from './exchange'
import { clientResponseHeaders } from './headers'
import { streamFailure } from './response-decoder'

const encoder = new TextEncoder()

/** What the encoder needs of the exchange. */
export interface EncodeContext {
  readonly stream: CompiledStream | undefined
  readonly responseTree: PlainFieldTree
  /** The response's cipher context; undefined on a plain exchange. */
  readonly cipher: CipherContext | undefined
  /** Headers stages asked for, and `x-request-id`. */
  readonly extraHeaders: Record<string, string>
  readonly signal: AbortSignal
  /** Reads facts from each plain body or event, when someone listens for the outcome. */
  readonly facts: ((event: Record<string, unknown>) => void) | undefined
  /** Called once when the response is fully written (a stream: after its last byte). */
  finished(failure: ContinuumError | undefined): void
  /** Called when the first stream event is encoded, for time-to-first-token. */
  readonly firstEvent?: (() => void) | undefined
}

/**
 * What the upstream's content becomes when it cannot go on the wire faithfully: a value with no
 * RFC 8785 form cannot be sealed, and one nested too deep for JSON.stringify cannot be written.
 * Either is the upstream breaking its protocol (502), not a fault of the proxy or the client.
 */
function unwritable(error: unknown): unknown {
  const nonCanonical = ContinuumError.isInstance(error) && error.code === 'CONTINUUM_NON_CANONICAL_JSON'
  if (!nonCanonical && !(error instanceof RangeError)) return error
  return new ContinuumError(
    'CONTINUUM_UPSTREAM_PROTOCOL_ERROR',
    nonCanonical
      ? 'Upstream answered with a JSON value that cannot be sealed (no RFC 8785 form)'
      : 'Upstream answered with JSON nested too deep to relay',
    { cause: error },
  )
}

function stringify(value: unknown): string {
  try {
    return JSON.stringify(value)
  } catch (error) {
    throw unwritable(error)
  }
}

function frame(stream: CompiledStream, event: StreamEvent): string {
  if (stream.framing === 'ndjson') return `${stringify(event.data)}\n`
  const data = stringify(event.data)
  return formatSse(event.name === undefined || event.name === '' ? { data } : { event: event.name, data })
}

function sealed(seal: () => Record<string, unknown>): Record<string, unknown> {
  try {
    return seal()
  } catch (error) {
    throw unwritable(error)
  }
}

/** Encodes and frames the events of one stream; see the module comment. */
async function* encodeEvents(
  events: AsyncIterable<StreamEvent>,
  stream: CompiledStream,
  context: EncodeContext,
): AsyncGenerator<Uint8Array> {
  const cipher = context.cipher
  let sequence = 0
  let failure: ContinuumError | undefined
  try {
    for await (const event of events) {
      if (sequence === 0) context.firstEvent?.()
      context.facts?.(event.data)
      const data =
        cipher === undefined
          ? event.data
          : sealed(() => sealEvent(stream.tree, event.data, cipher, sequence, event.name ?? ''))
      sequence++
      yield encoder.encode(frame(stream, event.name === undefined ? { data } : { data, name: event.name }))
    }
    let tail = ''
    if (cipher !== undefined) {
      const marker = JSON.stringify(endMarker(cipher, sequence))
      tail += stream.framing === 'sse' ? formatSse({ event: END_EVENT_NAME, data: marker }) : `${marker}\n`
    }
    if (stream.framing === 'sse' && stream.terminal !== undefined)
      tail += formatSse({ data: stream.terminal })
    if (tail !== '') yield encoder.encode(tail)
  } catch (error) {
    failure = streamFailure(error, context.signal)
    if (failure !== undefined) {
      if (cipher === undefined) {
        // A plain client reads the protocol's own error event.
        yield encoder.encode(frame(stream, stream.errorEvent(failure)))
      } else {
        // An encrypted client learns of the failure from a sealed end marker carrying its code,
        // so an on-path attacker can neither forge a failure nor pass a cut stream for a whole one.
        const marker = JSON.stringify(failureMarker(cipher, sequence, failure))
        yield encoder.encode(
          stream.framing === 'sse' ? formatSse({ event: END_EVENT_NAME, data: marker }) : `${marker}\n`,
        )
      }
    }
  } finally {
    context.finished(failure)
  }
}

/** Relays plain bytes, appending the protocol's error frame if the upstream breaks off. */
async function* relayBytes(
  source: AsyncIterable<Uint8Array>,
  stream: CompiledStream | undefined,
  context: Pick<EncodeContext, 'signal' | 'finished'>,
): AsyncGenerator<Uint8Array> {
  let failure: ContinuumError | undefined
  try {
    for await (const chunk of source) yield chunk
  } catch (error) {
    failure = streamFailure(error, context.signal)
    if (failure === undefined || stream === undefined) throw error
    // The break may fall mid-frame: a blank line closes any partial SSE event first.
    yield encoder.encode(
      (stream.framing === 'sse' ? '\n\n' : '\n') + frame(stream, stream.errorEvent(failure)),
    )
  } finally {
    context.finished(failure)
  }
}

/** The wire response of an exchange. */
export function encodeResponse(response: ExchangeResponse, context: EncodeContext): CoreResponse {
  const body = response.body
  const cipher = context.cipher
  const headers = {
    ...clientResponseHeaders(response.headers, body.type !== 'bytes'),
    ...context.extraHeaders,
  }
  if (cipher !== undefined) headers[HEADERS.encrypted] = '1'
  if (body.type === 'bytes') {
    return { status: response.status, headers, body: relayBytes(body.stream, context.stream, context) }
  }
  if (body.type === 'events') {
    const stream = context.stream
    if (stream === undefined) throw new TypeError('events on a route without a stream definition')
    headers['content-type'] =
      stream.framing === 'sse' ? 'text/event-stream; charset=utf-8' : 'application/x-ndjson'
    headers['cache-control'] = 'no-cache'
    return { status: response.status, headers, body: encodeEvents(body.events, stream, context) }
  }
  context.facts?.(body.value)
  headers['content-type'] = 'application/json'
  let text: string
  if (cipher === undefined) {
    text = stringify(body.value)
  } else {
    let message: { body: unknown; seal: string }
    try {
      message = sealResponse(context.responseTree, body.value, cipher, response.status)
    } catch (error) {
      throw unwritable(error)
    }
    headers[HEADERS.seal] = message.seal
    text = stringify(message.body)
  }
  context.finished(response.failure)
  return { status: response.status, headers, body: text }
}
