/**
 * The last step of an exchange: the plain response becomes what goes on the wire. On an encrypted
 * exchange a JSON body is field-encrypted and sealed (the seal binds the status) and sent as the
 * canonical text the seal covers; a stream is written by the frame writer (frame-writer.ts: sealed
 * events or batch frames, the authenticated end marker, the failure marker) a read at a time.
 * Plain exchanges are framed the same way without the cipher, and plain bytes are relayed
 * untouched. When no stage read the events, the encoder takes the upstream's bytes and decoder
 * itself (event-stream-body.ts), so each read is handled in one synchronous step. The frame writer
 * and the event-stream body are the stream path, loaded on the first response that streams
 * (stream-path-loader.ts); a relayed plain body appends only the protocol's plain error frame. The facts telemetry and
 * audit read are gathered here, once.
 */
import type { CipherContext } from '../cipher/field-cipher'
import type { PlainFieldTree } from '../cipher/field-map'
import { HEADERS } from '../cipher/format'
import { sealResponse } from '../cipher/message-codec'
import type { CoreResponse } from '../core/http'
import type { ContinuumError } from '../errors'
import type { CompiledStream } from '../protocol/compiled-route'
import type { StreamEvent } from '../protocol/stream-event'
import type { ExchangeResponse } from './exchange'
import { clientResponseHeaders } from './headers'
import { plainFailureFrame, stringify, unwritable } from './plain-frame'
import { type StreamPath, streamPath } from './stream-path-loader'
import { RelayedBody } from './wire-body'

/** What the encoder needs of the exchange. */
export interface EncodeContext {
  readonly stream: CompiledStream | undefined
  readonly responseTree: PlainFieldTree
  /** The response's cipher context; undefined on a plain exchange. */
  readonly cipher: CipherContext | undefined
  /** Whether the client expands batch frames (it sent `x-continuum-batch: 1`). */
  readonly batch: boolean
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
 * The wire response of an exchange. Synchronous, except for the first event stream, which waits
 * for the stream path to load.
 */
export function encodeResponse(
  response: ExchangeResponse,
  context: EncodeContext,
): CoreResponse | Promise<CoreResponse> {
  const body = response.body
  const cipher = context.cipher
  const headers = clientResponseHeaders(response.headers, body.type !== 'bytes')
  for (const name in context.extraHeaders) headers[name] = context.extraHeaders[name]!
  if (cipher !== undefined) headers[HEADERS.encrypted] = '1'
  if (body.type === 'bytes') {
    const stream = context.stream
    return {
      status: response.status,
      headers,
      body: new RelayedBody(
        body.stream,
        stream === undefined ? undefined : (failure) => plainFailureFrame(stream, failure, true),
        context.signal,
        (failure) => context.finished(failure),
      ),
    }
  }
  if (body.type === 'events') {
    const stream = context.stream
    if (stream === undefined) throw new TypeError('events on a route without a stream definition')
    headers['content-type'] =
      stream.framing === 'sse' ? 'text/event-stream; charset=utf-8' : 'application/x-ndjson'
    headers['cache-control'] = 'no-cache'
    const events = body.events
    const write = (path: StreamPath): CoreResponse => {
      const writer = new path.FrameWriter(stream, cipher, context.batch, context.facts, context.firstEvent)
      return {
        status: response.status,
        headers,
        body: new path.EventStreamBody(
          path.claimRawEvents(events),
          events,
          writer,
          context.signal,
          (failure) => context.finished(failure),
        ),
      }
    }
    const path = streamPath()
    if (!(path instanceof Promise)) return write(path)
    return path.then(write, (error: unknown) => {
      discard(events)
      throw error
    })
  }
  context.facts?.(body.value)
  headers['content-type'] = 'application/json'
  let text: string
  if (cipher === undefined) {
    text = stringify(body.value)
  } else {
    let message: { text: string; seal: string }
    try {
      message = sealResponse(context.responseTree, body.value, cipher, response.status)
    } catch (error) {
      throw unwritable(error)
    }
    headers[HEADERS.seal] = message.seal
    text = message.text
  }
  context.finished(response.failure)
  return { status: response.status, headers, body: text }
}

/** Lets go of events that will not be written (the stream path did not load), best effort. */
function discard(events: AsyncIterable<StreamEvent>): void {
  try {
    void events[Symbol.asyncIterator]()
      .return?.()
      ?.catch(() => {})
  } catch {
    // Already read, or not ours to close.
  }
}
