/**
 * The router's client for Gemini models on Google Vertex AI: `generateContent` for completions,
 * `streamGenerateContent?alt=sse` for streams, `:predict` on text-embedding models for embeddings
 * and `:countTokens` (free, no generation) as the health probe. Calls go to the regional endpoint
 * `https://{location}-aiplatform.googleapis.com` (or the global one) with an OAuth bearer token.
 */
import type { GoogleAuthOptions } from 'google-auth-library'
import {
  type CanonicalRequest,
  type CanonicalResponse,
  type ContinuumError,
  type EmbeddingRequest,
  type EmbeddingResponse,
  parseSse,
  type StreamChunk,
  type Usage,
} from '../../../src/index'
import {
  type CommonProviderOptions,
  type InferenceProvider,
  invalidOption,
  isRecord,
  mergeCapabilities,
  type ProviderCapabilities,
  type ProviderHealth,
  ProviderHttp,
  probeHealth,
  protocolError,
  providerErrorFromResponse,
  resolveBaseUrl,
  resolveCommonOptions,
  streamEndedEarly,
} from '../../../src/provider-kit/index'
import { createTokenSource, type VertexAccessToken } from './auth'
import { geminiFinishReason, readGeminiResponse, toGeminiRequest } from './wire'
import { readPredictions } from './wire-embeddings'

/** What `streamGenerateContent?alt=sse` answers as; a whole JSON body in its place is no stream. */
const SSE_TYPES = ['text/event-stream']

/** Options of {@link vertex}. */
export interface VertexProviderOptions extends CommonProviderOptions {
  /** Google Cloud project id. */
  project: string
  /** Region such as `us-central1`, or `global`. */
  location: string
  /**
   * An OAuth access token or a function returning a current one. When absent, Application Default
   * Credentials are used through google-auth-library (loaded on the first call).
   * @default undefined
   */
  accessToken?: VertexAccessToken
  /**
   * Options for google-auth-library's GoogleAuth when no accessToken is given, e.g. `{ authClient }`
   * built by the caller; the cloud-platform scope is always added.
   * @default undefined (Application Default Credentials)
   */
  googleAuth?: GoogleAuthOptions
  /**
   * API endpoint.
   * @default "https://{location}-aiplatform.googleapis.com" ("https://aiplatform.googleapis.com" for global)
   */
  baseURL?: string
  /**
   * Model whose `:countTokens` answers health probes.
   * @default the first of `models`, else "gemini-2.0-flash-001"
   */
  healthModel?: string
  /**
   * Texts per `:predict` call (text-embedding-005 takes up to 250; gemini-embedding-001 takes 1).
   * @default 250
   */
  embeddingBatchSize?: number
}

const DEFAULT_CAPABILITIES: ProviderCapabilities = {
  models: [],
  contextWindow: 1_048_576,
  streaming: true,
  tools: true,
  vision: true,
  embeddings: true,
  latencyMs: { p50: 700, p99: 5000 },
  costPerMillion: { input: 0.15, output: 0.6 },
  local: false,
}

const NAME_PATTERN = /^[a-z0-9][a-z0-9-]*$/

/**
 * Creates a Vertex AI (Gemini) provider.
 * @example vertex({ project: 'my-project', location: 'us-central1', models: ['gemini-2.0-flash-001'] })
 */
export function vertex(options: VertexProviderOptions): InferenceProvider {
  const common = resolveCommonOptions('vertex()', options, 'vertex')
  if (typeof options.project !== 'string' || !NAME_PATTERN.test(options.project)) {
    invalidOption('vertex()', 'project must be a Google Cloud project id')
  }
  if (typeof options.location !== 'string' || !NAME_PATTERN.test(options.location)) {
    invalidOption('vertex()', 'location must be a region such as "us-central1" or "global"')
  }
  const accessToken = options.accessToken
  if (
    accessToken !== undefined &&
    typeof accessToken !== 'function' &&
    (typeof accessToken !== 'string' || accessToken === '')
  ) {
    invalidOption('vertex()', 'accessToken must be a non-empty string or a function')
  }
  const embeddingBatchSize = options.embeddingBatchSize ?? 250
  if (!Number.isInteger(embeddingBatchSize) || embeddingBatchSize < 1) {
    invalidOption('vertex()', 'embeddingBatchSize must be a positive integer')
  }
  const { project, location } = options
  const host =
    location === 'global'
      ? 'https://aiplatform.googleapis.com'
      : `https://${location}-aiplatform.googleapis.com`
  const baseURL = resolveBaseUrl('vertex()', 'baseURL', options.baseURL ?? host)
  const modelsURL = `${baseURL}/v1/projects/${project}/locations/${location}/publishers/google/models`
  const healthModel = options.healthModel ?? common.models[0] ?? 'gemini-2.0-flash-001'
  const capabilities = mergeCapabilities(
    'vertex()',
    DEFAULT_CAPABILITIES,
    common.models,
    options.capabilities,
  )
  const providerId = common.id
  const http = new ProviderHttp({ providerId, ...common })
  const token = createTokenSource(providerId, accessToken, options.googleAuth)

  /** The error of a google.rpc.Status object (`{"error":{"code",...}}`); undefined for any other value. */
  function statusError(body: unknown): ContinuumError | undefined {
    if (!isRecord(body) || !isRecord(body.error)) return undefined
    const code = typeof body.error.code === 'number' ? body.error.code : 500
    return providerErrorFromResponse(code, undefined, providerId)
  }

  async function call(
    model: string,
    method: string,
    body: unknown,
    signal: AbortSignal | undefined,
    query = '',
  ) {
    return {
      method: 'POST' as const,
      url: `${modelsURL}/${encodeURIComponent(model)}:${method}${query}`,
      headers: {
        'content-type': 'application/json',
        ...common.headers,
        authorization: `Bearer ${await token()}`,
      },
      body: JSON.stringify(body),
      signal,
    }
  }

  return {
    specificationVersion: 'v1',
    id: providerId,
    capabilities,

    async complete(request: CanonicalRequest): Promise<CanonicalResponse> {
      const answer = await http.json(
        await call(request.model, 'generateContent', toGeminiRequest(request), request.signal),
      )
      const reading = readGeminiResponse(answer.body, providerId)
      const response: CanonicalResponse = {
        id: reading.responseId ?? `vertex-${Date.now()}`,
        model: reading.modelVersion ?? request.model,
        provider: providerId,
        content: reading.text,
        toolCalls: reading.toolCalls,
        finishReason: geminiFinishReason(reading.finishReason, reading.toolCalls.length > 0),
      }
      if (reading.usage !== undefined) response.usage = reading.usage
      return response
    },

    async *stream(request: CanonicalRequest): AsyncGenerator<StreamChunk> {
      const bytes = http.stream({
        ...(await call(
          request.model,
          'streamGenerateContent',
          toGeminiRequest(request),
          request.signal,
          '?alt=sse',
        )),
        streamTypes: SSE_TYPES,
        streamError: statusError,
      })
      let toolCallCount = 0
      let finishReason: string | undefined
      let usage: Usage | undefined
      for await (const event of parseSse(bytes)) {
        let body: unknown
        try {
          body = JSON.parse(event.data)
        } catch {
          throw protocolError(providerId, 'a stream event that is not JSON')
        }
        // An error after the 200 arrives as a google.rpc.Status event.
        const failure = statusError(body)
        if (failure !== undefined) throw failure
        const reading = readGeminiResponse(body, providerId)
        if (reading.text !== '') yield { type: 'text-delta', text: reading.text }
        for (const toolCall of reading.toolCalls) {
          yield {
            type: 'tool-call-delta',
            index: toolCallCount++,
            id: toolCall.id,
            name: toolCall.name,
            argumentsDelta: toolCall.arguments,
          }
        }
        // Every chunk carries running usage; the last one is the total.
        if (reading.usage !== undefined) usage = reading.usage
        if (reading.finishReason !== undefined) finishReason = reading.finishReason
      }
      if (finishReason === undefined) throw streamEndedEarly(providerId)
      if (usage !== undefined) yield { type: 'usage', usage }
      yield { type: 'finish', finishReason: geminiFinishReason(finishReason, toolCallCount > 0) }
    },

    async embed(request: EmbeddingRequest): Promise<EmbeddingResponse> {
      const embeddings: number[][] = []
      let inputTokens = 0
      for (let start = 0; start < request.input.length; start += embeddingBatchSize) {
        const batch = request.input.slice(start, start + embeddingBatchSize)
        const body = { instances: batch.map((content) => ({ content })) }
        const answer = await http.json(await call(request.model, 'predict', body, request.signal))
        const read = readPredictions(answer.body, providerId, batch.length)
        embeddings.push(...read.embeddings)
        inputTokens += read.tokens
      }
      return {
        model: request.model,
        provider: providerId,
        embeddings,
        usage: { inputTokens, outputTokens: 0 },
      }
    },

    health: (signal?: AbortSignal): Promise<ProviderHealth> =>
      probeHealth(http, () =>
        call(healthModel, 'countTokens', { contents: [{ role: 'user', parts: [{ text: 'ping' }] }] }, signal),
      ),

    close: () => http.close(),
  }
}
