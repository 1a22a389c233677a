/**
 * The InferenceProvider behind every OpenAI-shaped client. OpenAI, Azure OpenAI, vLLM and the
 * generic OpenAI-compatible client differ only in where a call goes (URL shape, one endpoint or
 * several), how it authenticates and how health is probed; those come in as settings, and the
 * protocol work (translation, SSE parsing, failover on connection refusal) is done once here.
 */

import {
  type CanonicalRequest,
  type CanonicalResponse,
  ContinuumError,
  type EmbeddingRequest,
  type EmbeddingResponse,
  embeddingsNotSupported,
  type InferenceProvider,
  type ProviderCapabilities,
  type ProviderHealth,
  ProviderHttp,
  parseSse,
  probeHealth,
  type ResolvedCommonOptions,
  type SseEvent,
  type StreamChunk,
} from '../../../src/provider-kit/index'
import {
  nativeChatBody,
  type OpenAIWireDialect,
  toOpenAIChatRequest,
  toOpenAIEmbeddingRequest,
} from './wire-request'
import { fromOpenAIChatResponse, fromOpenAIEmbeddingResponse } from './wire-response'
import { fromResponsesObject, ResponsesStreamTranslator } from './wire-responses'
import { OpenAIStreamTranslator, openAIBodyError } from './wire-stream'

/** The operations that have a URL. */
export type OpenAIOperation = 'chat' | 'embeddings' | 'responses'

/** One place calls can go: a base URL with its own connection pool. */
export interface OpenAIEndpoint {
  readonly http: ProviderHttp
  /** The URL of an operation for a provider-specific model name. */
  url(operation: OpenAIOperation, model: string): string
}

/** Chooses endpoints: one for most providers, several with failover for vLLM. */
export interface OpenAIEndpointPool {
  /** Endpoints to try for one call, best first; failover moves on only when connecting failed. */
  candidates(): readonly OpenAIEndpoint[]
  /** A call starts on an endpoint; the returned function ends it (for least-inflight balancing). */
  begin(endpoint: OpenAIEndpoint): () => void
  /** Connecting to an endpoint failed; the pool may skip it for a while. */
  markUnreachable(endpoint: OpenAIEndpoint): void
}

/** What chat and Responses streams come as; a whole JSON body in their place is no stream. */
const SSE_TYPES = ['text/event-stream']

/** What distinguishes one OpenAI-shaped client from another. */
export interface OpenAICoreSettings {
  id: string
  capabilities: ProviderCapabilities
  pool: OpenAIEndpointPool
  dialect: OpenAIWireDialect
  /** Headers of every call: content type, authentication and the user's extra headers. */
  headers(): Promise<Record<string, string>> | Record<string, string>
  health(signal: AbortSignal | undefined): Promise<ProviderHealth>
  close(): Promise<void>
}

/** Network codes that mean the request never reached the server, so another endpoint may take it. */
const CONNECT_FAILURE_CODES = new Set([
  'ECONNREFUSED',
  'ENOENT', // a Unix socket path that does not exist
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'UND_ERR_CONNECT_TIMEOUT',
])

/** Whether an error (or one of its causes) is a failure to connect. */
export function isConnectFailure(error: unknown, depth = 0): boolean {
  if (depth > 5 || typeof error !== 'object' || error === null) return false
  const record = error as { code?: unknown; cause?: unknown; errors?: unknown }
  if (typeof record.code === 'string' && CONNECT_FAILURE_CODES.has(record.code)) return true
  if (Array.isArray(record.errors) && record.errors.some((inner) => isConnectFailure(inner, depth + 1)))
    return true
  return isConnectFailure(record.cause, depth + 1)
}

/** Builds the provider from settings. */
export function createOpenAICoreProvider(settings: OpenAICoreSettings): InferenceProvider {
  const { id, capabilities, pool, dialect } = settings

  /** Runs one call on the first endpoint that accepts a connection. */
  async function withEndpoint<T>(attempt: (endpoint: OpenAIEndpoint) => Promise<T>): Promise<T> {
    const candidates = pool.candidates()
    for (let position = 0; position < candidates.length; position++) {
      const endpoint = candidates[position]!
      const end = pool.begin(endpoint)
      try {
        return await attempt(endpoint)
      } catch (error) {
        if (position < candidates.length - 1 && isConnectFailure(error)) {
          pool.markUnreachable(endpoint)
          continue
        }
        if (isConnectFailure(error)) pool.markUnreachable(endpoint)
        throw error
      } finally {
        end()
      }
    }
    throw noEndpoint(id)
  }

  /** POSTs a JSON body to an operation on the first endpoint that accepts a connection; the answer's body. */
  function postJson(
    operation: OpenAIOperation,
    request: { readonly model: string; readonly signal?: AbortSignal | undefined },
    headers: Record<string, string>,
    body: string,
  ): Promise<unknown> {
    return withEndpoint(async (endpoint) => {
      const answer = await endpoint.http.json({
        method: 'POST',
        url: endpoint.url(operation, request.model),
        headers,
        body,
        signal: request.signal,
      })
      return answer.body
    })
  }

  /** Whether a request goes as the client sent it: it speaks a dialect this provider forwards. */
  const forwards = (request: CanonicalRequest): boolean =>
    request.native !== undefined && capabilities.dialects?.includes(request.native.dialect) === true

  function chatBody(request: CanonicalRequest, streamed: boolean): string {
    if (forwards(request) && request.native?.dialect === 'openai-chat') {
      return JSON.stringify(nativeChatBody(request, streamed))
    }
    return JSON.stringify(toOpenAIChatRequest(request, request.model, dialect, streamed))
  }

  /**
   * Streams one call from the first endpoint that accepts a connection. Only a refused connection
   * moves on to the next endpoint: once connected, part of the answer may already have been yielded.
   */
  async function* streamFromEndpoint<Translator extends { readonly done: boolean }>(
    operation: 'chat' | 'responses',
    request: CanonicalRequest,
    body: string,
    createTranslator: () => Translator,
    read: (events: AsyncIterable<SseEvent>, translator: Translator) => AsyncGenerator<StreamChunk>,
  ): AsyncGenerator<StreamChunk> {
    const headers = { ...(await settings.headers()), accept: 'text/event-stream' }
    const candidates = pool.candidates()
    for (const [position, endpoint] of candidates.entries()) {
      const translator = createTranslator()
      const end = pool.begin(endpoint)
      let connected = false
      try {
        const bytes = endpoint.http.stream(
          {
            method: 'POST',
            url: endpoint.url(operation, request.model),
            headers,
            body,
            signal: request.signal,
            answered: () => translator.done,
            streamTypes: SSE_TYPES,
            streamError: (answer) => openAIBodyError(answer, id),
          },
          () => {
            connected = true
          },
        )
        yield* read(parseSse(bytes), translator)
        return
      } catch (error) {
        if (!connected && isConnectFailure(error)) {
          pool.markUnreachable(endpoint)
          if (position < candidates.length - 1) continue
        }
        throw error
      } finally {
        end()
      }
    }
    throw noEndpoint(id)
  }

  /** A Responses API request forwarded as sent: its own events, with the canonical chunks beside them. */
  function streamResponses(request: CanonicalRequest): AsyncGenerator<StreamChunk> {
    const body = JSON.stringify({ ...request.native?.body, model: request.model, stream: true })
    return streamFromEndpoint(
      'responses',
      request,
      body,
      () => new ResponsesStreamTranslator(id),
      async function* (events, translator) {
        for await (const event of events) {
          const data = translator.parse(event.data)
          const chunks = translator.push(data)
          const name = event.event === undefined || event.event === '' ? undefined : event.event
          yield {
            type: 'native',
            dialect: 'openai-responses',
            event: name === undefined ? { data } : { name, data },
          }
          for (const chunk of chunks) yield chunk
          // Whole at its terminal event: a connection held open after it closes here, not on idle.
          if (translator.done) break
        }
        translator.end()
      },
    )
  }

  async function* stream(request: CanonicalRequest): AsyncGenerator<StreamChunk> {
    if (forwards(request) && request.native?.dialect === 'openai-responses') {
      yield* streamResponses(request)
      return
    }
    const native = forwards(request) && request.native?.dialect === 'openai-chat'
    yield* streamFromEndpoint(
      'chat',
      request,
      chatBody(request, true),
      () => new OpenAIStreamTranslator(id),
      async function* (events, translator) {
        for await (const event of events) {
          if (!native || event.data === '[DONE]') {
            for (const chunk of translator.push(event.data)) yield chunk
          } else {
            // The client of the same dialect gets the event itself; the router reads the canonical chunks.
            const parsed = translator.parse(event.data)
            const chunks = translator.pushParsed(parsed)
            yield {
              type: 'native',
              dialect: 'openai-chat',
              event: { data: parsed as Record<string, unknown> },
            }
            for (const chunk of chunks) yield chunk
          }
          // Whole at `[DONE]`: a connection held open after it closes here, not on the idle timeout.
          if (translator.done) break
        }
        for (const chunk of translator.end()) yield chunk
      },
    )
  }

  return {
    specificationVersion: 'v1',
    id,
    capabilities,

    async complete(request: CanonicalRequest): Promise<CanonicalResponse> {
      const given = settings.headers()
      const headers = given instanceof Promise ? await given : given
      if (forwards(request) && request.native?.dialect === 'openai-responses') {
        const responsesBody: Record<string, unknown> = { ...request.native.body, model: request.model }
        delete responsesBody.stream
        delete responsesBody.stream_options
        const answer = await postJson('responses', request, headers, JSON.stringify(responsesBody))
        const response = fromResponsesObject(answer, id)
        return {
          ...response,
          native: { dialect: 'openai-responses', body: answer as Record<string, unknown> },
        }
      }
      const native = forwards(request) && request.native?.dialect === 'openai-chat'
      const answer = await postJson('chat', request, headers, chatBody(request, false))
      const response = fromOpenAIChatResponse(answer, id)
      if (!native) return response
      return { ...response, native: { dialect: 'openai-chat', body: answer as Record<string, unknown> } }
    },

    stream,

    async embed(request: EmbeddingRequest): Promise<EmbeddingResponse> {
      if (!capabilities.embeddings) {
        throw embeddingsNotSupported(id)
      }
      const body = JSON.stringify(toOpenAIEmbeddingRequest(request, request.model))
      const answer = await postJson('embeddings', request, await settings.headers(), body)
      return fromOpenAIEmbeddingResponse(answer, id, request.input.length)
    },

    health: (signal?: AbortSignal) => settings.health(signal),
    close: () => settings.close(),
  }
}

function noEndpoint(id: string): ContinuumError {
  return new ContinuumError('CONTINUUM_PROVIDER_UNAVAILABLE', `Provider ${id} has no endpoint to call`, {
    details: { provider: id },
  })
}

/** The pool of a provider with a single endpoint. */
export function singleEndpointPool(endpoint: OpenAIEndpoint): OpenAIEndpointPool {
  const candidates = [endpoint]
  return { candidates: () => candidates, begin: () => noop, markUnreachable: noop }
}

const noop = (): void => {}

/** What a client with one base URL (OpenAI, the generic OpenAI-compatible client) resolved. */
export interface SingleBaseUrlSettings {
  common: ResolvedCommonOptions
  capabilities: ProviderCapabilities
  dialect: OpenAIWireDialect
  /** Base URL including the version segment, without a trailing slash. */
  baseURL: string
  /** Headers of every call, health probe included. */
  headers: Record<string, string>
  /** Path under `baseURL` that `health()` GETs, e.g. `/models`. */
  healthPath: string
}

/**
 * Builds the provider of a client that calls `<baseURL>/chat/completions` and
 * `<baseURL>/embeddings` over one connection pool, with fixed headers and a GET health probe.
 */
export function createSingleBaseUrlProvider(settings: SingleBaseUrlSettings): InferenceProvider {
  const { common, baseURL, headers } = settings
  const http = new ProviderHttp({
    providerId: common.id,
    timeoutMs: common.timeoutMs,
    maxResponseBytes: common.maxResponseBytes,
    ...(common.dispatcher === undefined ? {} : { dispatcher: common.dispatcher }),
    ...(common.fetch === undefined ? {} : { fetch: common.fetch }),
  })
  const paths = {
    chat: `${baseURL}/chat/completions`,
    embeddings: `${baseURL}/embeddings`,
    responses: `${baseURL}/responses`,
  }
  const healthUrl = `${baseURL}${settings.healthPath}`
  return createOpenAICoreProvider({
    id: common.id,
    capabilities: settings.capabilities,
    dialect: settings.dialect,
    pool: singleEndpointPool({ http, url: (operation) => paths[operation] }),
    headers: () => headers,
    health: (signal) => probeHealth(http, { method: 'GET', url: healthUrl, headers, signal }),
    close: () => http.close(),
  })
}
