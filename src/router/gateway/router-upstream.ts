/**
 * The gateway's upstream: an `Upstream` that answers from an InferenceRouter instead of an HTTP
 * server, so the proxy pipeline (field decryption, schema validation, stages, re-encryption and
 * stream sealing) serves OpenAI- and Anthropic-format clients over any provider the router knows.
 * It reads the already decrypted body, translates it to the canonical request by route, calls the
 * router, and writes the exact wire answer of the client's dialect: JSON, or an SSE byte stream.
 * Failures before the first byte become the dialect's error body with our status and code; a
 * failure after it becomes the dialect's in-stream error event, and the stream ends without its
 * terminal event so no client mistakes a cut answer for a whole one.
 */
import { randomUUID } from 'node:crypto'
import { fromAnthropicRequest } from '../../../adapters/anthropic/gateway/request'
import {
  toAnthropicError,
  toAnthropicModel,
  toAnthropicModelList,
  toAnthropicResponse,
} from '../../../adapters/anthropic/gateway/response'
import { AnthropicEventEncoder } from '../../../adapters/anthropic/gateway/stream'
import { fromOpenAIChatRequest, fromOpenAIEmbeddingRequest } from '../../../adapters/openai/gateway/request'
import {
  toOpenAIChatResponse,
  toOpenAIEmbeddingResponse,
  toOpenAIError,
  toOpenAIModel,
  toOpenAIModelList,
} from '../../../adapters/openai/gateway/response'
import { OpenAIChunkEncoder } from '../../../adapters/openai/gateway/stream'
import { type Clock, systemClock } from '../../core/clock'
import { ContinuumError, toContinuumError } from '../../errors'
import type { Upstream, UpstreamRequest, UpstreamResponse } from '../../proxy/upstream'
import type { DataClassification, RequestMetadata, StreamChunk } from '../canonical'
import type { InferenceRouter } from '../inference-router'
import { readRequestJson } from './request-body'

/** Options of {@link createRouterUpstream}. */
export interface RouterUpstreamOptions {
  /**
   * Request header whose value becomes `metadata.callerId` (routing, audit, limits); `false` reads none.
   * @default 'x-caller-id'
   */
  callerIdHeader?: string | false
  /**
   * Caller id used when the request carries none.
   * @default undefined
   */
  callerId?: string
  /**
   * Request header whose value (`public`, `internal`, `confidential`, `restricted`) becomes
   * `metadata.classification`. Off by default: a client could otherwise claim a laxer class than
   * its data deserves and steer `classification_based` routing off the host.
   * @default false
   */
  classificationHeader?: string | false
  /**
   * Close the router when the proxy closes this upstream.
   * @default false (the router belongs to the caller)
   */
  closeRouter?: boolean
  /**
   * Time source for `created` timestamps.
   * @default systemClock
   */
  clock?: Clock
}

const CLASSIFICATIONS = new Set<DataClassification>(['public', 'internal', 'confidential', 'restricted'])
const TRACEPARENT = /^[\da-f]{2}-([\da-f]{32})-[\da-f]{16}-[\da-f]{2}$/
const encoder = new TextEncoder()

type Dialect = 'openai' | 'anthropic'

function headerOption(
  value: string | false | undefined,
  fallback: string | false,
  name: string,
): string | false {
  const resolved = value ?? fallback
  if (resolved !== false && (typeof resolved !== 'string' || !/^[a-z0-9-]+$/i.test(resolved))) {
    throw new ContinuumError('CONTINUUM_INVALID_OPTIONS', `${name} must be a header name or false`)
  }
  return resolved === false ? false : resolved.toLowerCase()
}

async function* once(bytes: Uint8Array): AsyncGenerator<Uint8Array> {
  yield bytes
}

function json(status: number, value: unknown, headers: Record<string, string> = {}): UpstreamResponse {
  return {
    status,
    headers: { 'content-type': 'application/json', ...headers },
    body: once(encoder.encode(JSON.stringify(value))),
  }
}

function failure(dialect: Dialect, error: unknown): UpstreamResponse {
  const continuumError = toContinuumError(error)
  const headers: Record<string, string> =
    continuumError.retryAfterSeconds === undefined
      ? {}
      : { 'retry-after': String(Math.ceil(continuumError.retryAfterSeconds)) }
  const body = dialect === 'anthropic' ? toAnthropicError(continuumError) : toOpenAIError(continuumError)
  return json(continuumError.status, body, headers)
}

function hexId(): string {
  return randomUUID().replaceAll('-', '')
}

/** One encoder per dialect: the SSE text of a chunk, the error event, and the terminal event. */
interface StreamEncoder {
  readonly finished: boolean
  push(chunk: StreamChunk): string
  error(error: ContinuumError): string
  /** Text after the last chunk of a finished stream (`data: [DONE]` for OpenAI). */
  trailer(): string
}

/**
 * Writes a started router stream as SSE bytes. Chunks are encoded as they come; a router error
 * chunk, a throw, or an end without a finish ends the stream with the error event only.
 */
async function* sseBody(
  first: StreamChunk,
  iterator: AsyncIterator<StreamChunk>,
  streamEncoder: StreamEncoder,
  signal: AbortSignal,
  report: (error: ContinuumError) => void,
): AsyncGenerator<Uint8Array> {
  try {
    let chunk: StreamChunk = first
    for (;;) {
      const text = streamEncoder.push(chunk)
      if (text !== '') yield encoder.encode(text)
      if (chunk.type === 'error') {
        report(chunk.error)
        return
      }
      const next = await iterator.next()
      if (next.done) break
      chunk = next.value
    }
    if (streamEncoder.finished) {
      const trailer = streamEncoder.trailer()
      if (trailer !== '') yield encoder.encode(trailer)
      return
    }
    const unfinished = new ContinuumError(
      'CONTINUUM_STREAM_INTERRUPTED',
      'The router stream ended without finishing',
    )
    report(unfinished)
    yield encoder.encode(streamEncoder.error(unfinished))
  } catch (error) {
    // The client left: nobody reads an error event.
    if (signal.aborted) return
    const failure = toContinuumError(error)
    report(failure)
    yield encoder.encode(streamEncoder.error(failure))
  } finally {
    // Reached when the consumer stops reading too: the router aborts the provider's request.
    void iterator.return?.()?.catch(() => undefined)
  }
}

/**
 * An `Upstream` over an InferenceRouter, for `createProxy({ upstream })` or the `router` option.
 *
 * @example
 * const proxy = createProxy({ upstream: createRouterUpstream(router), keys })
 */
export function createRouterUpstream(router: InferenceRouter, options: RouterUpstreamOptions = {}): Upstream {
  if (typeof router?.complete !== 'function' || typeof router.stream !== 'function') {
    throw new ContinuumError(
      'CONTINUUM_INVALID_OPTIONS',
      'createRouterUpstream: router must be an InferenceRouter',
    )
  }
  if (typeof options !== 'object' || options === null) {
    throw new ContinuumError('CONTINUUM_INVALID_OPTIONS', 'createRouterUpstream: options must be an object')
  }
  const callerIdHeader = headerOption(options.callerIdHeader, 'x-caller-id', 'callerIdHeader')
  const classificationHeader = headerOption(options.classificationHeader, false, 'classificationHeader')
  if (options.callerId !== undefined && (typeof options.callerId !== 'string' || options.callerId === '')) {
    throw new ContinuumError('CONTINUUM_INVALID_OPTIONS', 'callerId must be a non-empty string')
  }
  const defaultCaller = options.callerId
  const closeRouter = options.closeRouter ?? false
  const clock = options.clock ?? systemClock

  function metadataOf(headers: Record<string, string>): RequestMetadata {
    const metadata: RequestMetadata = {}
    const caller = (callerIdHeader === false ? undefined : headers[callerIdHeader]) ?? defaultCaller
    if (caller !== undefined && caller !== '') metadata.callerId = caller
    const trace = TRACEPARENT.exec(headers.traceparent ?? '')?.[1] ?? headers['x-request-id']
    if (trace !== undefined && trace !== '') metadata.traceId = trace
    if (classificationHeader !== false) {
      const declared = headers[classificationHeader]?.trim().toLowerCase()
      if (declared !== undefined) {
        if (!CLASSIFICATIONS.has(declared as DataClassification)) {
          throw new ContinuumError(
            'CONTINUUM_SCHEMA_VIOLATION',
            `${classificationHeader} must be public, internal, confidential or restricted`,
            { details: { path: `headers.${classificationHeader}` } },
          )
        }
        metadata.classification = declared as DataClassification
      }
    }
    return metadata
  }

  function created(): number {
    return Math.floor(clock.now() / 1000)
  }

  async function openaiChat(
    request: UpstreamRequest,
    body: Record<string, unknown>,
  ): Promise<UpstreamResponse> {
    const chat = fromOpenAIChatRequest(body)
    const canonical = { ...chat.request, metadata: metadataOf(request.headers), signal: request.signal }
    if (!chat.stream) {
      const response = await router.complete(canonical)
      const answer = { ...response, id: response.id === '' ? hexId() : response.id }
      return json(200, toOpenAIChatResponse(answer, canonical.model, created()))
    }
    const chunkEncoder = new OpenAIChunkEncoder({
      id: `chatcmpl-${hexId()}`,
      model: canonical.model,
      created: created(),
      includeUsage: chat.includeUsage,
    })
    return startStream(router.stream(canonical), request.signal, {
      get finished() {
        return chunkEncoder.finished
      },
      push: (chunk) => chunkEncoder.push(chunk),
      error: (error) => chunkEncoder.error(error),
      trailer: () => chunkEncoder.done(),
    })
  }

  async function anthropicMessages(
    request: UpstreamRequest,
    body: Record<string, unknown>,
  ): Promise<UpstreamResponse> {
    const messages = fromAnthropicRequest(body)
    const canonical = { ...messages.request, metadata: metadataOf(request.headers), signal: request.signal }
    if (!messages.stream) {
      const response = await router.complete(canonical)
      const answer = { ...response, id: response.id === '' ? hexId() : response.id }
      return json(200, toAnthropicResponse(answer, canonical.model))
    }
    const eventEncoder = new AnthropicEventEncoder({ id: `msg_${hexId()}`, model: canonical.model })
    return startStream(router.stream(canonical), request.signal, {
      get finished() {
        return eventEncoder.finished
      },
      push: (chunk) => eventEncoder.push(chunk),
      error: (error) => eventEncoder.error(error),
      trailer: () => '',
    })
  }

  /** Waits for the first chunk, so failover and errors before it still get a status code. */
  async function startStream(
    stream: AsyncIterable<StreamChunk>,
    signal: AbortSignal,
    streamEncoder: StreamEncoder,
  ): Promise<UpstreamResponse> {
    const iterator = stream[Symbol.asyncIterator]()
    const first = await iterator.next()
    if (first.done) {
      throw new ContinuumError('CONTINUUM_NO_PROVIDER_AVAILABLE', 'The router stream ended before any chunk')
    }
    if (first.value.type === 'error') throw first.value.error
    let failed: ContinuumError | undefined
    return {
      status: 200,
      headers: { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache' },
      body: sseBody(first.value, iterator, streamEncoder, signal, (error) => {
        failed = error
      }),
      failure: () => failed,
    }
  }

  async function embeddings(
    request: UpstreamRequest,
    body: Record<string, unknown>,
  ): Promise<UpstreamResponse> {
    const embedding = fromOpenAIEmbeddingRequest(body)
    const response = await router.embed({
      ...embedding.request,
      metadata: metadataOf(request.headers),
      signal: request.signal,
    })
    return json(200, toOpenAIEmbeddingResponse(response, embedding.request.model, embedding.encoding))
  }

  function models(request: UpstreamRequest, path: string): UpstreamResponse {
    // Both SDKs call GET /v1/models; only Anthropic's sends anthropic-version.
    const dialect: Dialect = request.headers['anthropic-version'] === undefined ? 'openai' : 'anthropic'
    const listings = router.models()
    if (path === '/v1/models') {
      return json(200, dialect === 'anthropic' ? toAnthropicModelList(listings) : toOpenAIModelList(listings))
    }
    const id = decodeURIComponent(path.slice('/v1/models/'.length))
    const listing = listings.find((candidate) => candidate.id === id)
    if (listing === undefined) {
      return failure(
        dialect,
        new ContinuumError('CONTINUUM_MODEL_NOT_FOUND', 'The router serves no such model'),
      )
    }
    return json(200, dialect === 'anthropic' ? toAnthropicModel(listing) : toOpenAIModel(listing))
  }

  return {
    async send(request) {
      const mark = request.url.indexOf('?')
      const path = mark === -1 ? request.url : request.url.slice(0, mark)
      const dialect: Dialect = path.startsWith('/v1/messages') ? 'anthropic' : 'openai'
      try {
        // HEAD is served like GET (the proxy serves HEAD on GET routes); the server drops the body.
        const read = request.method === 'GET' || request.method === 'HEAD'
        if (read && (path === '/v1/models' || path.startsWith('/v1/models/'))) {
          return models(request, path)
        }
        if (request.method === 'POST') {
          if (path === '/v1/chat/completions')
            return await openaiChat(request, await readRequestJson(request.body))
          if (path === '/v1/messages')
            return await anthropicMessages(request, await readRequestJson(request.body))
          if (path === '/v1/embeddings') return await embeddings(request, await readRequestJson(request.body))
        }
        throw new ContinuumError(
          'CONTINUUM_ROUTE_NOT_SUPPORTED',
          `The router gateway does not serve ${request.method} ${path}`,
        )
      } catch (error) {
        return failure(dialect, error)
      }
    },
    async close() {
      if (closeRouter) await router.close()
    },
  }
}
