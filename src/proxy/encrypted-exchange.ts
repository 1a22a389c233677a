/**
 * One exchange on an adapter route: read and authenticate the request, decrypt its fields,
 * validate it, run the stages, forward it, and encrypt what comes back (a JSON body as a whole,
 * a stream event by event). Plain requests on `optional` servers take the same path minus the cipher.
 */
import { randomUUID } from 'node:crypto'
import type { CipherContext } from '../cipher/field-cipher'
import { HEADERS } from '../cipher/format'
import { openRequest, requestSealMeta, sealResponse } from '../cipher/message-codec'
import type { CoreRequest, CoreResponse } from '../core/http'
import { ContinuumError } from '../errors'
import type { RouteMatch } from '../protocol/registry'
import { readBodyBytes, readJsonBody } from './body-reader'
import { clientResponseHeaders, mediaType, upstreamRequestHeaders } from './headers'
import type { ResolvedProxyOptions } from './proxy-options'
import type { Exchange, ExchangeObservation, ExchangeOutcome, ExchangePhase } from './stage'
import { relayStream, type StreamTap, sealStream } from './stream-sealer'
import { type UpstreamResponse, upstreamError } from './upstream'

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

interface Authenticated {
  body: Record<string, unknown>
  context: CipherContext | undefined
}

/** Authenticates and decrypts the request body; the nonce is recorded only once the seal verified. */
async function authenticate(
  options: ResolvedProxyOptions,
  request: CoreRequest,
  match: RouteMatch,
  raw: Record<string, unknown>,
): Promise<Authenticated> {
  const headers = request.headers
  const version = headers[HEADERS.encryption]
  if (version === undefined) {
    if (options.encryptionRequired) {
      throw new ContinuumError('CONTINUUM_ENCRYPTION_REQUIRED', 'This server requires field encryption (cp1)')
    }
    return { body: raw, context: undefined }
  }
  if (version !== 'cp1') {
    throw new ContinuumError('CONTINUUM_UNSUPPORTED_VERSION', 'Only encryption format cp1 is supported')
  }
  if (options.keyring === undefined) {
    throw new ContinuumError('CONTINUUM_KEY_UNKNOWN', 'This server has no field keys')
  }
  const keyId = headers[HEADERS.keyId]
  if (keyId === undefined || keyId === '') {
    throw new ContinuumError('CONTINUUM_KEY_ID_MISSING', `Encrypted request without ${HEADERS.keyId}`)
  }
  const nonce = headers[HEADERS.nonce]
  const timestamp = headers[HEADERS.timestamp]
  options.replayGuard.checkFreshness(nonce, timestamp)
  const key = options.keyring.resolve(keyId, headers[HEADERS.ephemeralKey])
  const context: CipherContext = { key, nonce: nonce!, direction: 'request' }
  const meta = requestSealMeta(request.method, match.routePath, timestamp!)
  const body = openRequest(match.route.requestTree, raw, context, meta, headers[HEADERS.seal])
  await options.replayGuard.remember(keyId, nonce!)
  return { body: body as Record<string, unknown>, context }
}

/** Runs one exchange on an adapter route. */
export async function encryptedExchange(
  options: ResolvedProxyOptions,
  request: CoreRequest,
  match: RouteMatch,
  query: string,
): Promise<CoreResponse> {
  const observation = options.observer?.begin(request, match)
  if (observation === undefined) return runExchange(options, request, match, query, undefined)
  try {
    const response = await runExchange(options, request, match, query, observation)
    // A stream's observation ends inside runExchange, when its last byte went out.
    if (!isStream(response.body)) observation.end({ status: response.status, endedAt: options.clock.now() })
    return response
  } catch (error) {
    observation.end({
      status: ContinuumError.isInstance(error) ? error.status : 500,
      errorCode: ContinuumError.isInstance(error) ? error.code : 'CONTINUUM_INTERNAL',
      endedAt: options.clock.now(),
    })
    throw error
  }
}

/** The stream tap of one exchange: remembers an in-band failure, and shows plain events to the observer. */
interface ExchangeTap extends StreamTap {
  failed: ContinuumError | undefined
}

function exchangeTap(observation: ExchangeObservation | undefined): ExchangeTap {
  const tap: ExchangeTap = {
    failed: undefined,
    failure(error) {
      tap.failed = error
    },
  }
  if (observation !== undefined) tap.event = (event) => observation.upstreamEvent(event)
  return tap
}

function isStream(body: CoreResponse['body']): body is AsyncIterable<Uint8Array> {
  return typeof body === 'object' && body !== null && Symbol.asyncIterator in body
}

/** Runs `run` as one observed phase. */
async function inPhase<T>(
  observation: ExchangeObservation | undefined,
  phase: ExchangePhase,
  run: () => Promise<T>,
  stage?: string,
): Promise<T> {
  if (observation === undefined) return run()
  const end = observation.phase(phase, stage)
  try {
    const result = await run()
    end()
    return result
  } catch (error) {
    end(error)
    throw error
  }
}

async function runExchange(
  options: ResolvedProxyOptions,
  request: CoreRequest,
  match: RouteMatch,
  query: string,
  observation: ExchangeObservation | undefined,
): Promise<CoreResponse> {
  const { body, context } = await inPhase(observation, 'decrypt', async () => {
    const raw = await readJsonBody(request.body, options.bodyLimit, request.headers['content-length'])
    if (!isRecord(raw)) {
      throw new ContinuumError('CONTINUUM_SCHEMA_VIOLATION', 'Request body must be a JSON object', {
        details: { path: '/' },
      })
    }
    const authenticated = await authenticate(options, request, match, raw)
    match.route.validate(authenticated.body)
    return authenticated
  })
  const { route } = match
  const exchange: Exchange = {
    requestId: request.headers['x-request-id'] ?? randomUUID(),
    method: request.method,
    match,
    body,
    encrypted: context !== undefined,
    keyId: context?.key.id,
    headers: request.headers,
    streaming: route.stream?.isStreaming(body) ?? false,
    responseHeaders: {},
    annotations: {},
    startedAt: options.clock.now(),
  }
  observation?.accepted(exchange)
  try {
    for (const stage of options.stages) {
      if (stage.beforeForward === undefined) continue
      await inPhase(observation, 'stage', async () => stage.beforeForward?.(exchange), stage.name)
    }
    const send = () =>
      options.upstream.send({
        method: request.method,
        url: match.routePath + query,
        headers: upstreamRequestHeaders(request.headers, true),
        body: JSON.stringify(exchange.body),
        signal: request.signal,
      })
    const upstream = await inPhase(observation, 'upstream', () =>
      observation?.within === undefined ? send() : observation.within(send),
    )
    const tap = exchangeTap(observation)
    const endEncrypt = observation?.phase('encrypt')
    let response: CoreResponse
    try {
      response = await respond(options, upstream, exchange, context, request.signal, tap)
    } catch (error) {
      endEncrypt?.(error)
      throw error
    }
    if (isStream(response.body)) {
      const status = response.status
      return {
        ...response,
        body: finishAfter(response.body, async () => {
          const failed = upstream.failure?.() ?? tap.failed
          endEncrypt?.(failed)
          observation?.end({
            status,
            endedAt: options.clock.now(),
            ...(failed === undefined ? {} : { errorCode: failed.code }),
          })
          await finish(options, exchange, status, failed?.code)
        }),
      }
    }
    endEncrypt?.()
    await finish(options, exchange, response.status)
    return response
  } catch (error) {
    const code = ContinuumError.isInstance(error) ? error.code : 'CONTINUUM_INTERNAL'
    const status = ContinuumError.isInstance(error) ? error.status : 500
    await finish(options, exchange, status, code)
    throw error
  }
}

async function* finishAfter(
  body: AsyncIterable<Uint8Array>,
  done: () => Promise<void>,
): AsyncGenerator<Uint8Array> {
  try {
    yield* body
  } finally {
    await done()
  }
}

async function finish(
  options: ResolvedProxyOptions,
  exchange: Exchange,
  status: number,
  errorCode?: string,
): Promise<void> {
  const outcome: ExchangeOutcome = {
    status,
    endedAt: options.clock.now(),
    ...(errorCode === undefined ? {} : { errorCode }),
  }
  for (const stage of options.stages) {
    try {
      await stage.afterExchange?.(exchange, outcome)
    } catch (error) {
      options.logger.warn('stage afterExchange failed', {
        stage: stage.name,
        code: (error as { code?: string }).code,
      })
    }
  }
}

async function respond(
  options: ResolvedProxyOptions,
  upstream: UpstreamResponse,
  exchange: Exchange,
  context: CipherContext | undefined,
  signal: AbortSignal,
  tap: ExchangeTap,
): Promise<CoreResponse> {
  const stream = exchange.match.route.stream
  const type = mediaType(upstream.headers['content-type'])
  const streamed = type === 'text/event-stream' || type === 'application/x-ndjson'
  const extra = { ...exchange.responseHeaders, 'x-request-id': exchange.requestId }
  if (context === undefined) {
    return {
      status: upstream.status,
      headers: { ...clientResponseHeaders(upstream.headers, false), ...extra },
      body: relayStream(upstream.body, streamed ? stream : undefined, signal, tap),
    }
  }
  const responseContext: CipherContext = { ...context, direction: 'response' }
  if (streamed && stream !== undefined && upstream.status < 300) {
    return {
      status: upstream.status,
      headers: {
        ...clientResponseHeaders(upstream.headers, true),
        ...extra,
        [HEADERS.encrypted]: '1',
        'cache-control': 'no-cache',
      },
      body: sealStream(upstream.body, stream, responseContext, signal, tap),
    }
  }
  const bytes = await readBodyBytes({ kind: 'stream', stream: upstream.body }, options.responseLimit).catch(
    (error: unknown) => {
      upstream.body.destroy?.()
      if (ContinuumError.isInstance(error) && error.code === 'CONTINUUM_BODY_TOO_LARGE') {
        throw new ContinuumError(
          'CONTINUUM_UPSTREAM_RESPONSE_TOO_LARGE',
          `Upstream response over ${options.responseLimit} bytes`,
          { cause: error },
        )
      }
      // The upstream hung up or stalled mid-body: a transport failure (502/504), not an internal one.
      throw upstreamError(error, signal)
    },
  )
  let parsed: unknown
  try {
    parsed =
      type === 'application/json' || type.endsWith('+json') || type === ''
        ? JSON.parse(bytes.toString('utf8'))
        : undefined
  } catch {
    parsed = undefined
  }
  if (!isRecord(parsed)) {
    // Never relay an unparseable body on an encrypted route: it may echo the prompt in plaintext.
    throw new ContinuumError(
      'CONTINUUM_UPSTREAM_PROTOCOL_ERROR',
      `Upstream answered ${upstream.status} with a body that is not a JSON object`,
      {
        ...(upstream.status >= 400 ? { status: upstream.status >= 500 ? 502 : upstream.status } : {}),
        details: { upstreamStatus: upstream.status },
      },
    )
  }
  tap.event?.(parsed)
  const sealed = sealResponse(exchange.match.route.responseTree, parsed, responseContext, upstream.status)
  return {
    status: upstream.status,
    headers: {
      ...clientResponseHeaders(upstream.headers, true),
      ...extra,
      'content-type': 'application/json',
      [HEADERS.encrypted]: '1',
      [HEADERS.seal]: sealed.seal,
    },
    body: JSON.stringify(sealed.body),
  }
}
