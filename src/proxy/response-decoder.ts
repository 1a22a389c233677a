/**
 * Turns an upstream's bytes into the objects stages and the sealer work on: a JSON body into an
 * object (within the response limit), an SSE or NDJSON stream into events by the route's framing.
 * A decoded stream ends normally only when the protocol's end was reached (its terminal sentinel,
 * or its final event); an upstream that stops early, breaks off or sends something that is not a
 * JSON object makes the iteration throw, so no one takes a cut answer for a whole one. On encrypted
 * exchanges only the allow-listed upstream headers are kept (headers.ts).
 */
import { ContinuumError } from '../errors'
import type { CompiledStream } from '../protocol/compiled-route'
import type { RouteMatch } from '../protocol/registry'
import type { StreamEvent } from '../protocol/stream-event'
import { NdjsonDecoder } from '../streams/ndjson'
import { SseDecoder } from '../streams/sse'
import { readBodyBytes } from './body-reader'
import type { ExchangeResponse } from './exchange'
import { encryptedResponseHeaders, mediaType } from './headers'
import { upstreamError } from './http-upstream'
import { jsonTextTooDeep, jsonValueTooDeep } from './json-depth'

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

function notAnObject(): ContinuumError {
  return new ContinuumError('CONTINUUM_UPSTREAM_PROTOCOL_ERROR', 'Upstream stream event is not a JSON object')
}

function earlyEnd(): ContinuumError {
  return new ContinuumError(
    'CONTINUUM_UPSTREAM_STREAM_ABORTED',
    'Upstream ended the stream without its terminal event',
  )
}

/** Turns a failure inside a stream into the error to report in-band; undefined when the client left. */
export function streamFailure(error: unknown, signal: AbortSignal): ContinuumError | undefined {
  if (signal.aborted) return undefined
  const failure = upstreamError(error, signal)
  if (failure.code === 'CONTINUUM_UPSTREAM_UNAVAILABLE') {
    return new ContinuumError(
      'CONTINUUM_UPSTREAM_STREAM_ABORTED',
      'Upstream closed the stream before it finished',
      { cause: error },
    )
  }
  return failure
}

/**
 * Deepest nesting accepted in an upstream body or event: far above any real answer, far below
 * what the sealer's recursion could take. A deeper one is a protocol error, not a crash.
 */
const MAX_RESPONSE_DEPTH = 256

function tooDeep(): ContinuumError {
  return new ContinuumError(
    'CONTINUUM_UPSTREAM_PROTOCOL_ERROR',
    `Upstream JSON nests deeper than ${MAX_RESPONSE_DEPTH} levels`,
  )
}

function parseObject(data: string): Record<string, unknown> {
  if (jsonTextTooDeep(data, MAX_RESPONSE_DEPTH)) throw tooDeep()
  let parsed: unknown
  try {
    parsed = JSON.parse(data)
  } catch {
    throw notAnObject()
  }
  if (!isRecord(parsed)) throw notAnObject()
  return parsed
}

interface DecodeState {
  /** The terminal sentinel went by: anything after it is ignored. */
  ended: boolean
  /** The protocol's end was reached. */
  finished: boolean
}

async function* sseEvents(
  source: AsyncIterable<Uint8Array>,
  stream: CompiledStream,
  state: DecodeState,
): AsyncGenerator<StreamEvent> {
  const decoder = new SseDecoder()
  const take = (data: string, name: string): StreamEvent | undefined => {
    if (state.ended) return undefined
    if (stream.terminal !== undefined && data === stream.terminal) {
      state.ended = true
      state.finished = true
      return undefined
    }
    const object = parseObject(data)
    if (!state.finished && stream.isFinal?.(object, name) === true) state.finished = true
    return name === '' ? { data: object } : { data: object, name }
  }
  for await (const chunk of source) {
    for (const event of decoder.push(chunk)) {
      const taken = take(event.data, event.event ?? '')
      if (taken !== undefined) yield taken
    }
  }
  for (const event of decoder.end()) {
    const taken = take(event.data, event.event ?? '')
    if (taken !== undefined) yield taken
  }
}

async function* ndjsonEvents(
  source: AsyncIterable<Uint8Array>,
  stream: CompiledStream,
  state: DecodeState,
): AsyncGenerator<StreamEvent> {
  const decoder = new NdjsonDecoder()
  const take = (value: unknown): StreamEvent => {
    if (!isRecord(value)) throw notAnObject()
    if (jsonValueTooDeep(value, MAX_RESPONSE_DEPTH)) throw tooDeep()
    if (!state.finished && stream.isFinal?.(value, '') === true) state.finished = true
    return { data: value }
  }
  for await (const chunk of source) for (const value of decoder.push(chunk)) yield take(value)
  for (const value of decoder.end()) yield take(value)
}

/** Decodes a byte stream into events; see the module comment. */
export async function* decodeEvents(
  source: AsyncIterable<Uint8Array>,
  stream: CompiledStream,
  signal: AbortSignal,
): AsyncGenerator<StreamEvent> {
  // A stream without a terminal sentinel or a final event is complete when it ends cleanly.
  const state: DecodeState = {
    ended: false,
    finished: stream.isFinal === undefined && stream.terminal === undefined,
  }
  try {
    yield* stream.framing === 'sse' ? sseEvents(source, stream, state) : ndjsonEvents(source, stream, state)
  } catch (error) {
    if (ContinuumError.isInstance(error)) throw error
    throw streamFailure(error, signal) ?? error
  }
  if (!state.finished) throw earlyEnd()
}

/** What {@link decodeResponse} needs to know. */
export interface DecodeOptions {
  /** Largest JSON body read, in bytes. */
  readonly responseLimit: number
  readonly signal: AbortSignal
  /** On encrypted exchanges a body that is not a JSON object is refused: it may echo the prompt. */
  readonly encrypted: boolean
}

async function* once(bytes: Uint8Array): AsyncGenerator<Uint8Array> {
  yield bytes
}

/** Decodes a bytes response by the route: events for a stream, an object for JSON. */
export async function decodeResponse(
  match: RouteMatch,
  upstream: ExchangeResponse,
  options: DecodeOptions,
): Promise<ExchangeResponse> {
  // Upstream headers reach the client in clear: on an encrypted exchange only the allow-list does.
  const response = options.encrypted
    ? { ...upstream, headers: encryptedResponseHeaders(upstream.headers) }
    : upstream
  const body = response.body
  if (body.type !== 'bytes') return response
  const type = mediaType(response.headers['content-type'])
  const stream = match.route.stream
  if (
    (type === 'text/event-stream' || type === 'application/x-ndjson') &&
    stream !== undefined &&
    response.status < 300
  ) {
    return {
      ...response,
      body: { type: 'events', events: decodeEvents(body.stream, stream, options.signal) },
    }
  }
  const bytes = await readBodyBytes({ kind: 'stream', stream: body.stream }, options.responseLimit).catch(
    (error: unknown) => {
      ;(body.stream as { destroy?(): void }).destroy?.()
      if (ContinuumError.isInstance(error) && error.code === 'CONTINUUM_BODY_TOO_LARGE') {
        throw new ContinuumError(
          'CONTINUUM_UPSTREAM_RESPONSE_TOO_LARGE',
          `Upstream response over ${options.responseLimit} bytes`,
          { cause: error },
        )
      }
      // The upstream hung up or stalled mid-body: a transport failure (502/504), not an internal one.
      throw upstreamError(error, options.signal)
    },
  )
  const json = type === 'application/json' || type.endsWith('+json') || type === ''
  if (json && jsonTextTooDeep(bytes, MAX_RESPONSE_DEPTH)) {
    throw new ContinuumError('CONTINUUM_UPSTREAM_PROTOCOL_ERROR', tooDeep().message, {
      ...(response.status >= 400 ? { status: response.status >= 500 ? 502 : response.status } : {}),
      details: { upstreamStatus: response.status },
    })
  }
  let parsed: unknown
  try {
    parsed = json ? JSON.parse(bytes.toString('utf8')) : undefined
  } catch {
    parsed = undefined
  }
  if (isRecord(parsed)) return { ...response, body: { type: 'json', value: parsed } }
  if (!options.encrypted) return { ...response, body: { type: 'bytes', stream: once(bytes) } }
  // Never relay an unparseable body on an encrypted route: it may echo the prompt in plaintext.
  throw new ContinuumError(
    'CONTINUUM_UPSTREAM_PROTOCOL_ERROR',
    `Upstream answered ${response.status} with a body that is not a JSON object`,
    {
      ...(response.status >= 400 ? { status: response.status >= 500 ? 502 : response.status } : {}),
      details: { upstreamStatus: response.status },
    },
  )
}
