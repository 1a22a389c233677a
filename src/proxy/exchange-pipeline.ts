/**
 * One exchange on an adapter route, as an onion: the `wrapExchange` hooks of the stages around
 * everything; then reading, authenticating, decrypting and validating the request; the
 * `wrapAccepted` hooks; the `wrapUpstream` hooks around the upstream call; and, on the way out,
 * the encoder that encrypts and frames the plain response. Plain requests on `optional` servers
 * take the same path minus the cipher. The hook lists and flags are computed once per proxy.
 */
import { randomUUID } from 'node:crypto'
import type { CipherContext } from '../cipher/field-cipher'
import { HEADERS } from '../cipher/format'
import { openRequest, requestSealMeta } from '../cipher/message-codec'
import type { CoreRequest, CoreResponse } from '../core/http'
import { ContinuumError } from '../errors'
import type { RequestFacts, ResponseFacts } from '../protocol/facts'
import type { RouteMatch } from '../protocol/registry'
import { readJsonBody } from './body-reader'
import type { Exchange, ExchangeOutcome, ExchangeResponse, PhaseTiming, ReceivedExchange } from './exchange'
import { upstreamRequestHeaders } from './headers'
import type { ResolvedProxyOptions } from './proxy-options'
import { decodeResponse } from './response-decoder'
import { encodeResponse } from './response-encoder'
import { hooksOf, runHooks } from './stage'

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
  #listeners: ((outcome: ExchangeOutcome) => void)[] | undefined
  #ended = false

  constructor(
    readonly request: CoreRequest,
    readonly route: RouteMatch,
    readonly query: string,
    readonly startedAt: number,
    private readonly options: ResolvedProxyOptions,
  ) {
    this.requestId = request.headers['x-request-id'] ?? randomUUID()
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
        this.options.logger.warn('exchange end listener threw; ignored', { route: this.route.route.name })
      }
    }
  }

  #requestFacts(): RequestFacts | undefined {
    if (this.body === undefined) return undefined
    const reader = this.route.route.facts
    if (reader !== undefined) return reader.request(this.body, this.route.params)
    return { model: this.route.params.model, maxTokens: undefined, temperature: undefined }
  }
}

/** Reads, authenticates, decrypts and validates the request; the nonce is recorded only once the seal verified. */
async function accept(
  options: ResolvedProxyOptions,
  exchange: PipelineExchange,
): Promise<CipherContext | undefined> {
  const { request, route: match } = exchange
  const raw = await readJsonBody(request, options.bodyReading)
  if (!isRecord(raw)) {
    throw new ContinuumError('CONTINUUM_SCHEMA_VIOLATION', 'Request body must be a JSON object', {
      details: { path: '/' },
    })
  }
  const headers = request.headers
  const version = headers[HEADERS.encryption]
  let context: CipherContext | undefined
  let body: Record<string, unknown> = raw
  if (version === undefined) {
    if (options.encryptionRequired) {
      throw new ContinuumError('CONTINUUM_ENCRYPTION_REQUIRED', 'This server requires field encryption (cp1)')
    }
  } else {
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
    context = { key, nonce: nonce!, direction: 'request' }
    const meta = requestSealMeta(request.method, match.routePath, timestamp!)
    body = openRequest(match.route.requestTree, raw, context, meta, headers[HEADERS.seal]) as Record<
      string,
      unknown
    >
    await options.replayGuard.remember(keyId, nonce!)
    exchange.encrypted = true
    exchange.keyId = key.id
  }
  match.route.validate(body)
  exchange.body = body
  exchange.streaming = match.route.stream?.isStreaming(body) ?? false
  return context
}

/** Runs exchanges on adapter routes for one proxy. */
export type ExchangeRunner = (request: CoreRequest, match: RouteMatch, query: string) => Promise<CoreResponse>

/** Builds the runner: hook lists and flags are computed here, once. */
export function createExchangeRunner(options: ResolvedProxyOptions): ExchangeRunner {
  const received = hooksOf<ReceivedExchange>(options.stages, 'wrapExchange')
  const accepted = hooksOf<Exchange>(options.stages, 'wrapAccepted')
  const around = hooksOf<Exchange>(options.stages, 'wrapUpstream')
  // Only a plain exchange with no stage to see objects keeps the upstream's bytes as they are.
  const decodePlain = options.stages.length > 0
  // Timings are for the stages that see the whole exchange (telemetry).
  const timed = received.hooks.length > 0

  return async (request, match, query) => {
    const exchange = new PipelineExchange(request, match, query, options.clock.now(), options)
    let context: CipherContext | undefined
    // The response phase starts when its body is first read (decoded), and ends with its last byte.
    let endEncrypt: ((error?: unknown) => void) | undefined

    const send = async (): Promise<ExchangeResponse> => {
      const end = timed ? exchange.mark('upstream') : undefined
      let response: ExchangeResponse
      try {
        response = await options.upstream.send({
          method: request.method,
          url: match.routePath + query,
          headers: upstreamRequestHeaders(request.headers, true),
          body: { type: 'json', value: exchange.body! },
          signal: request.signal,
          route: match,
        })
      } catch (error) {
        end?.(error)
        throw error
      }
      end?.()
      if (context === undefined && !decodePlain) return response
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

    let response: ExchangeResponse
    try {
      response = await runHooks(received, exchange, acceptAndForward)
    } catch (error) {
      exchange.finish(
        ContinuumError.isInstance(error) ? error.status : 500,
        ContinuumError.isInstance(error) ? error.code : 'CONTINUUM_INTERNAL',
      )
      throw error
    }
    if (timed && endEncrypt === undefined) endEncrypt = exchange.mark('encrypt')
    const reader = match.route.facts
    const facts =
      exchange.observed && reader !== undefined ? reader.response.bind(reader, exchange.facts) : undefined
    try {
      return encodeResponse(response, {
        stream: match.route.stream,
        responseTree: match.route.responseTree,
        cipher: context === undefined ? undefined : { ...context, direction: 'response' },
        extraHeaders: { ...exchange.responseHeaders, 'x-request-id': exchange.requestId },
        signal: request.signal,
        facts,
        finished(failure) {
          endEncrypt?.(failure)
          exchange.finish(response.status, (failure ?? response.failure)?.code)
        },
      })
    } catch (error) {
      endEncrypt?.(error)
      exchange.finish(500, ContinuumError.isInstance(error) ? error.code : 'CONTINUUM_INTERNAL')
      throw error
    }
  }
}
