/**
 * Turns an upstream's bytes into the objects stages and the sealer work on: a JSON body into an
 * object (within the response limit), an SSE or NDJSON stream into events by the route's framing
 * (stream-events.ts, which also says when a stream counts as whole, loaded with the rest of the
 * stream path on the first streamed response). On encrypted exchanges only the allow-listed
 * upstream headers are kept (headers.ts).
 */
import { ContinuumError } from '../errors'
import type { RouteMatch } from '../protocol/registry'
import { readBodyBytes } from './body-reader'
import type { ExchangeResponse } from './exchange'
import { encryptedResponseHeaders, mediaType } from './headers'
import { upstreamError } from './http-upstream'
import { jsonTextTooDeep } from './json-depth'
import { streamPath } from './stream-path-loader'
import { MAX_RESPONSE_DEPTH, tooDeep } from './upstream-faults'

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
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
    let path = streamPath()
    if (path instanceof Promise) {
      // The first streamed response loads the stream path; the upstream body waits unread.
      path = await path.catch((error: unknown) => {
        ;(body.stream as { destroy?(): void }).destroy?.()
        throw error
      })
    }
    return {
      ...response,
      body: { type: 'events', events: new path.DecodedEvents(body.stream, stream, options.signal) },
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
