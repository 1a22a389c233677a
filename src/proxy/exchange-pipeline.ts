/**
 * One exchange on an adapter route, as an onion: the `wrapExchange` hooks of the stages around
 * everything; then reading, authenticating, decrypting and validating the request; the
 * `wrapAccepted` hooks; the `wrapUpstream` hooks around the upstream call; and, on the way out,
 * the encoder that encrypts and frames the plain response. Plain requests on `optional` servers
 * take the same path minus the cipher. The hook lists and flags are computed once per proxy.
 */
import { type CipherContext, sealMatches } from '../cipher/field-cipher'
import { decryptFields } from '../cipher/field-map'
import { FORMAT_VERSION, HEADERS } from '../cipher/format'
import { verifyRequest } from '../cipher/message-codec'
import {
  ALWAYS_PROTECTED_HEADERS,
  canonicalQuery,
  parseSealedHeaderList,
  requestSealMeta,
  sealedHeaderBlock,
} from '../cipher/request-binding'
import type { CoreRequest, CoreResponse } from '../core/http'
import { ContinuumError, toContinuumError } from '../errors'
import { requestIdOf } from '../internal/request-id'
import { type RequestFacts, type ResponseFacts, shortName } from '../protocol/facts'
import type { RouteMatch } from '../protocol/registry'
import { readJsonBody } from './body-reader'
import type { Exchange, ExchangeOutcome, ExchangeResponse, PhaseTiming, ReceivedExchange } from './exchange'
import { upstreamRequestHeaders } from './headers'
import type { ResolvedProxyOptions } from './proxy-options'
import { decodeResponse } from './response-decoder'
import { encodeResponse } from './response-encoder'
import { dialectErrorResponse, reportedErrorResponse, reportFailure, sealedErrorResponse } from './responses'
import { hooksOf, runHooks } from './stage'
import { streamPath } from './stream-path-loader'

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

/** The exchange object the pipeline hands to stages, with the bookkeeping stages do not see. */
class PipelineExchange implements ReceivedExchange {
  readonly requestId: string
  body: Record<string, unknown> | undefined = undefined
  encrypted = false
  keyId: string | undefined = undefined
  streaming = false
  readonly responseHeaders: Record<string, string> = {}
  readonly annotations: Record<string, unknown> = {}
  readonly timings: PhaseTiming[] = []
  readonly facts: ResponseFacts = { finishReasons: [] }
  /** The response context errors are sealed with, once the request authenticated. */
  sealWith: CipherContext | undefined = undefined
  #listeners: ((outcome: ExchangeOutcome) => void)[] | undefined
  #ended = false

  constructor(
    /** As received; once an encrypted request authenticated, only what its seal covers. */
    public request: CoreRequest,
    readonly route: RouteMatch,
    /** As received; once an encrypted request authenticated, the canonical query it sealed. */
    public query: string,
    readonly startedAt: number,
    private readonly options: ResolvedProxyOptions,
  ) {
    this.requestId = requestIdOf(request.headers['x-request-id'])
  }

  onEnd(listener: (outcome: ExchangeOutcome) => void): void {
    if (typeof listener !== 'function') throw new TypeError('onEnd takes a function')
    if (this.#listeners === undefined) this.#listeners = [listener]
    else this.#listeners.push(listener)
  }

  /** Whether anyone waits for the outcome (so facts are worth reading). */
  get observed(): boolean {
    return this.#listeners !== undefined
  }

  /** Starts timing a phase; the returned function ends it. */
  mark(phase: PhaseTiming['phase'], stage?: string): (error?: unknown) => void {
    const timing: PhaseTiming = {
      phase,
      ...(stage === undefined ? {} : { stage }),
      start: this.options.clock.now(),
      end: Number.NaN,
    }
    this.timings.push(timing)
    return (error) => {
      if (!Number.isNaN(timing.end)) return
      timing.end = this.options.clock.now()
      if (error !== undefined)
        timing.errorCode = ContinuumError.isInstance(error) ? error.code : 'CONTINUUM_INTERNAL'
    }
  }

  /** Ends the exchange once and tells every listener, each guarded. */
  finish(status: number, errorCode: string | undefined): void {
    if (this.#ended) return
    this.#ended = true
    const listeners = this.#listeners
    if (listeners === undefined) return
    const outcome: ExchangeOutcome = {
      status,
      ...(errorCode === undefined ? {} : { errorCode }),
      endedAt: this.options.clock.now(),
      request: this.#requestFacts(),
      response: this.facts,
      timings: this.timings,
    }
    for (const listener of listeners) {
      try {
        listener(outcome)
      } catch {
        this.options.logger.warn({ route: this.route.route.name }, 'exchange end listener threw; ignored')
      }
    }
  }

  #requestFacts(): RequestFacts | undefined {
    if (this.body === undefined) return undefined
    const reader = this.route.route.facts
    if (reader !== undefined) return reader.request(this.body, this.route.params)
    // Triton's model is a path parameter: cut like a body's model, the caller chose its length.
    return { model: shortName(this.route.params.model), maxTokens: undefined, temperature: undefined }
  }
}

const protectedByRoute = new WeakMap<RouteMatch['route'], readonly string[]>()

/** Headers an encrypted request must seal when it carries them: refused, not stripped, when unsealed. */
function protectedHeaders(match: RouteMatch): readonly string[] {
  let names = protectedByRoute.get(match.route)
  if (names === undefined) {
    names = [...ALWAYS_PROTECTED_HEADERS, ...match.route.credentialHeaders, ...match.route.varyHeaders]
    protectedByRoute.set(match.route, names)
  }
  return names
}

/**
 * The headers of an authenticated request as stages and the upstream see them: the sealed ones,
 * the protocol's own, and the body length the proxy read by. Whatever else arrived was added on
 * the way (a load balancer's `x-forwarded-for`, an attacker's `openai-organization`) and is
 * dropped, so nothing downstream acts on a header the client did not seal.
 */
function sealedView(
  headers: Readonly<Record<string, string | undefined>>,
  sealed: readonly string[],
): Record<string, string | undefined> {
  const view: Record<string, string | undefined> = {}
  for (const name of sealed) if (headers[name] !== undefined) view[name] = headers[name]
  for (const name in headers) {
    if (name.startsWith('x-continuum-') || name === 'content-length') view[name] = headers[name]
  }
  return view
}

/**
 * Authenticates an encrypted request: freshness, the sealed header list, the seal over body,
 * route, canonical query, timestamp and sealed headers, then the replay memory. Errors from the
 * moment the seal verified are sealed for the client (`exchange.sealWith`); a retired key's
 * notice is sealed too when the request verifies under the retired key.
 */
async function authenticate(
  options: ResolvedProxyOptions,
  exchange: PipelineExchange,
  raw: Record<string, unknown>,
  received: Buffer | undefined,
): Promise<{ context: CipherContext; body: Record<string, unknown> }> {
  const { request, route: match } = exchange
  const headers = request.headers
  if (headers[HEADERS.encryption] !== FORMAT_VERSION) {
    throw new ContinuumError(
      'CONTINUUM_UNSUPPORTED_VERSION',
      `Only encryption format ${FORMAT_VERSION} is supported`,
    )
  }
  const keyring = options.keyring
  if (keyring === undefined)
    throw new ContinuumError('CONTINUUM_KEY_UNKNOWN', 'This server has no field keys')
  const keyId = headers[HEADERS.keyId]
  if (keyId === undefined || keyId === '') {
    throw new ContinuumError('CONTINUUM_KEY_ID_MISSING', `Encrypted request without ${HEADERS.keyId}`)
  }
  const nonce = headers[HEADERS.nonce]
  const timestamp = headers[HEADERS.timestamp]
  const sentAt = options.replayGuard.checkFreshness(nonce, timestamp)
  const sealed = parseSealedHeaderList(headers[HEADERS.sealedHeaders])
  for (const name of protectedHeaders(match)) {
    if (headers[name] !== undefined && !sealed.includes(name)) {
      throw new ContinuumError('CONTINUUM_INTEGRITY_FAILED', `Header ${name} must be sealed`, {
        details: { header: name },
      })
    }
  }
  const query = canonicalQuery(exchange.query)
  const meta = requestSealMeta({
    method: request.method,
    routePath: match.routePath,
    query,
    timestamp: timestamp!,
    headers: sealedHeaderBlock(sealed, (name) => headers[name]),
  })
  const seal = headers[HEADERS.seal]
  const ephemeralKey = headers[HEADERS.ephemeralKey]
  let context: CipherContext
  try {
    context = { key: keyring.resolve(keyId, ephemeralKey), nonce: nonce!, direction: 'request' }
  } catch (error) {
    const retired = ContinuumError.isInstance(error) && error.code === 'CONTINUUM_KEY_RETIRED'
    const key = retired ? keyring.retiredKey(keyId, ephemeralKey) : undefined
    if (
      key !== undefined &&
      sealMatches({ key, nonce: nonce!, direction: 'request' }, 0, 'request', meta, raw, seal)
    ) {
      exchange.sealWith = { key, nonce: nonce!, direction: 'response' }
    }
    throw error
  }
  verifyRequest(raw, context, meta, seal, received)
  exchange.sealWith = { ...context, direction: 'response' }
  await options.replayGuard.remember(keyId, nonce!, sentAt)
  exchange.request = { ...request, headers: sealedView(headers, sealed) }
  exchange.query = query === '' ? '' : `?${query}`
  const body = decryptFields(match.route.requestTree, raw, context, 0) as Record<string, unknown>
  return { context, body }
}

/** Reads, authenticates, decrypts and validates the request; the nonce is recorded only once the seal verified. */
async function accept(
  options: ResolvedProxyOptions,
  exchange: PipelineExchange,
): Promise<CipherContext | undefined> {
  const { request, route: match } = exchange
  const { value: raw, bytes } = await readJsonBody(request, options.bodyReading)
  if (!isRecord(raw)) {
    throw new ContinuumError('CONTINUUM_SCHEMA_VIOLATION', 'Request body must be a JSON object', {
      details: { path: '/' },
    })
  }
  let context: CipherContext | undefined
  let body: Record<string, unknown> = raw
  if (request.headers[HEADERS.encryption] === undefined) {
    if (options.encryptionRequired) {
      throw new ContinuumError(
        'CONTINUUM_ENCRYPTION_REQUIRED',
        `This server requires field encryption (${FORMAT_VERSION})`,
      )
    }
  } else {
    ;({ context, body } = await authenticate(options, exchange, raw, bytes))
    exchange.encrypted = true
    exchange.keyId = context.key.id
  }
  // A promise only while the route's schema is loading, so later requests wait on nothing.
  const validating = match.route.validate(body)
  if (validating !== undefined) await validating
  exchange.body = body
  exchange.streaming = match.route.stream?.isStreaming(body) ?? false
  // A process's first stream that is decoded (encrypted, or with stages; a plain one is relayed
  // as bytes) loads the stream path before the upstream is asked, not when its answer arrives: an
  // upstream body left unread while the module loads loses what it buffered if the upstream then
  // cuts the connection (Node drops a destroyed stream's buffer), and the client would get the
  // failure without the events that came before it.
  if (exchange.streaming && decodesAnswer(options, context)) {
    const path = streamPath()
    if (path instanceof Promise) await path
  }
  return context
}

/**
 * Whether an exchange's answer is decoded into objects: encrypted, or seen by stages. Only a plain
 * exchange with no stage keeps the upstream's bytes as they are.
 */
function decodesAnswer(options: ResolvedProxyOptions, context: CipherContext | undefined): boolean {
  return context !== undefined || options.stages.length > 0
}

/**
 * A refusal in the error shape of the route's gateway codec; undefined when the route has none
 * (or its codec does not load), so the refusal keeps our own shape.
 */
async function dialectErrorBody(
  match: RouteMatch,
  error: unknown,
): Promise<Record<string, unknown> | undefined> {
  const load = match.route.gateway
  if (load === undefined) return undefined
  // Spelled out: as `await match.route.gateway?.()` the CommonJS build's transform (sucrase, in
  // tsup) wrote an `_asyncOptionalChain` call that does not parse (test/smoke/load-built.mjs).
  try {
    const codec = await load()
    return codec === undefined ? undefined : codec.error(toContinuumError(error))
  } catch {
    return undefined
  }
}

/** Runs exchanges on adapter routes for one proxy; `onEnd`, when given, gets the outcome (the access log). */
export type ExchangeRunner = (
  request: CoreRequest,
  match: RouteMatch,
  query: string,
  onEnd?: (outcome: ExchangeOutcome) => void,
) => Promise<CoreResponse>

/** Builds the runner: hook lists and flags are computed here, once. */
export function createExchangeRunner(options: ResolvedProxyOptions): ExchangeRunner {
  const received = hooksOf<ReceivedExchange>(options.stages, 'wrapExchange')
  const accepted = hooksOf<Exchange>(options.stages, 'wrapAccepted')
  const around = hooksOf<Exchange>(options.stages, 'wrapUpstream')
  // Timings are for the stages that see the whole exchange (telemetry).
  const timed = received.hooks.length > 0

  return async (request, match, query, onEnd) => {
    const exchange = new PipelineExchange(request, match, query, options.clock.now(), options)
    if (onEnd !== undefined) exchange.onEnd(onEnd)
    let context: CipherContext | undefined
    // The response phase starts when its body is first read (decoded), and ends with its last byte.
    let endEncrypt: ((error?: unknown) => void) | undefined

    const send = async (): Promise<ExchangeResponse> => {
      const end = timed ? exchange.mark('upstream') : undefined
      let response: ExchangeResponse
      try {
        response = await options.upstream.send({
          method: request.method,
          url: match.routePath + exchange.query,
          headers: upstreamRequestHeaders(exchange.request.headers, true),
          body: { type: 'json', value: exchange.body! },
          signal: request.signal,
          route: match,
        })
      } catch (error) {
        end?.(error)
        throw error
      }
      end?.()
      if (!decodesAnswer(options, context)) return response
      endEncrypt = timed ? exchange.mark('encrypt') : undefined
      try {
        return await decodeResponse(match, response, {
          responseLimit: options.responseLimit,
          signal: request.signal,
          encrypted: context !== undefined,
        })
      } catch (error) {
        endEncrypt?.(error)
        throw error
      }
    }
    const callUpstream = () => runHooks(around, exchange as Exchange, send)
    const acceptAndForward = async (): Promise<ExchangeResponse> => {
      const end = timed ? exchange.mark('decrypt') : undefined
      try {
        context = await accept(options, exchange)
      } catch (error) {
        end?.(error)
        throw error
      }
      end?.()
      return runHooks(
        accepted,
        exchange as Exchange,
        callUpstream,
        timed ? (name) => exchange.mark('stage', name) : undefined,
      )
    }

    // An authenticated request's refusals are sealed for its client; earlier ones stay plain
    // (the proxy's handler renders them), since no key vouches for the request yet. Behind the
    // router gateway both are written in the route's dialect, as the gateway writes its own.
    const refuse = async (error: unknown, status: number, code: string): Promise<CoreResponse> => {
      exchange.finish(status, code)
      const body = options.dialectErrors ? await dialectErrorBody(match, error) : undefined
      if (exchange.sealWith === undefined && body === undefined) throw error
      reportFailure(options.logger, error)
      if (body !== undefined) {
        const headers: Record<string, string> =
          exchange.sealWith === undefined ? {} : { 'x-request-id': exchange.requestId }
        return dialectErrorResponse(error, body, exchange.sealWith, headers)
      }
      return sealedErrorResponse(error, exchange.sealWith!, { 'x-request-id': exchange.requestId })
    }
    let response: ExchangeResponse
    try {
      response = await runHooks(received, exchange, acceptAndForward)
    } catch (error) {
      return refuse(
        error,
        ContinuumError.isInstance(error) ? error.status : 500,
        ContinuumError.isInstance(error) ? error.code : 'CONTINUUM_INTERNAL',
      )
    }
    if (timed && endEncrypt === undefined) endEncrypt = exchange.mark('encrypt')
    // The gateway's own error answer goes out as the pipeline's refusals do: plain, never cached,
    // sealed as the server's error for an authenticated client.
    const reported = reportedErrorResponse(response, exchange.sealWith, {
      ...exchange.responseHeaders,
      'x-request-id': exchange.requestId,
    })
    if (reported !== undefined) {
      endEncrypt?.(response.failure)
      exchange.finish(response.status, response.failure?.code)
      return reported
    }
    const reader = match.route.facts
    const facts =
      exchange.observed && reader !== undefined ? reader.response.bind(reader, exchange.facts) : undefined
    try {
      return await encodeResponse(response, {
        stream: match.route.stream,
        responseTree: match.route.responseTree,
        cipher: context === undefined ? undefined : { ...context, direction: 'response' },
        batch: context !== undefined && request.headers[HEADERS.batch] === '1',
        extraHeaders: { ...exchange.responseHeaders, 'x-request-id': exchange.requestId },
        signal: request.signal,
        facts,
        firstEvent: timed ? () => exchange.mark('first-event')() : undefined,
        finished(failure) {
          endEncrypt?.(failure)
          exchange.finish(response.status, (failure ?? response.failure)?.code)
        },
      })
    } catch (error) {
      endEncrypt?.(error)
      return refuse(error, 500, ContinuumError.isInstance(error) ? error.code : 'CONTINUUM_INTERNAL')
    }
  }
}
