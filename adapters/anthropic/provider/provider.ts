/**
 * The Anthropic provider client for the router: the Messages API (complete and SSE stream, text,
 * images, tool use) and a models-list health probe. Anthropic has no embeddings endpoint, so
 * `embed()` refuses with CONTINUUM_NOT_SUPPORTED.
 *
 * @example
 * const provider = anthropic({ apiKey: process.env.ANTHROPIC_API_KEY!, models: ['claude-sonnet-4-20250514'] })
 */

import {
  type CanonicalRequest,
  type CanonicalResponse,
  type CommonProviderOptions,
  countOrUndefined,
  type EmbeddingResponse,
  embeddingsNotSupported,
  type InferenceProvider,
  invalidOption,
  isRecord,
  mergeCapabilities,
  type ProviderCapabilities,
  ProviderHttp,
  parseSse,
  probeHealth,
  protocolError,
  resolveBaseUrl,
  resolveCommonOptions,
  type StreamChunk,
  type TokenCountResponse,
} from '../../../src/provider-kit/index'
import { resolveApiKey, resolveHeaderValue } from '../../openai/provider/options'
import { ANTHROPIC_PARAMETERS, nativeMessagesBody, toAnthropicRequest } from './wire-request'
import { fromAnthropicResponse } from './wire-response'
import { AnthropicStreamTranslator } from './wire-stream'

/** What Messages streams come as; a whole JSON body in their place is no stream. */
const SSE_TYPES = ['text/event-stream']

/** Options of {@link anthropic}. */
export interface AnthropicProviderOptions extends CommonProviderOptions {
  /** The API key, sent as `x-api-key`. Never logged nor put in errors. */
  apiKey: string
  /**
   * Base URL without the version segment.
   * @default 'https://api.anthropic.com'
   */
  baseURL?: string
  /**
   * The `anthropic-version` header.
   * @default '2023-06-01'
   */
  apiVersion?: string
  /**
   * Beta features, sent comma-separated as `anthropic-beta`.
   * @default []
   */
  betas?: string[]
  /**
   * `max_tokens` when the request sets none; Anthropic requires the field.
   * @default 4096
   */
  defaultMaxTokens?: number
}

/** Capability defaults of Anthropic's hosted API; override them per model. */
export const ANTHROPIC_DEFAULT_CAPABILITIES: Readonly<ProviderCapabilities> = Object.freeze({
  models: [],
  contextWindow: 200_000,
  streaming: true,
  tools: true,
  vision: true,
  embeddings: false,
  latencyMs: { p50: 1_000, p99: 6_000 },
  costPerMillion: { input: 3, output: 15 },
  local: false,
  dialects: ['anthropic-messages'] as const,
  parameters: ANTHROPIC_PARAMETERS,
})

/** Creates the Anthropic provider. Throws CONTINUUM_INVALID_OPTIONS naming a bad option. */
export function anthropic(options: AnthropicProviderOptions): InferenceProvider {
  const factory = 'anthropic()'
  const common = resolveCommonOptions(factory, options, 'anthropic')
  const capabilities = mergeCapabilities(factory, ANTHROPIC_DEFAULT_CAPABILITIES, common.models, {
    ...options.capabilities,
    // There is no embeddings endpoint to turn on.
    embeddings: false,
  })
  const apiKey = resolveApiKey(factory, options.apiKey, true)
  const baseURL = resolveBaseUrl(factory, 'baseURL', options.baseURL ?? 'https://api.anthropic.com')
  const apiVersion = resolveHeaderValue(factory, 'apiVersion', options.apiVersion) ?? '2023-06-01'
  const betas = options.betas ?? []
  if (!Array.isArray(betas) || !betas.every((beta) => typeof beta === 'string' && /^[\w.-]+$/.test(beta))) {
    invalidOption(factory, 'betas must be an array of beta names')
  }
  const defaultMaxTokens = options.defaultMaxTokens ?? 4096
  if (!Number.isInteger(defaultMaxTokens) || defaultMaxTokens <= 0) {
    invalidOption(factory, 'defaultMaxTokens must be a positive integer')
  }
  const id = common.id
  const headers: Record<string, string> = {
    ...common.headers,
    ...(betas.length === 0 ? {} : { 'anthropic-beta': betas.join(',') }),
    'content-type': 'application/json',
    'anthropic-version': apiVersion,
    'x-api-key': apiKey,
  }
  const streamHeaders = { ...headers, accept: 'text/event-stream' }
  const messagesURL = `${baseURL}/v1/messages`
  const http = new ProviderHttp({
    providerId: id,
    timeoutMs: common.timeoutMs,
    maxResponseBytes: common.maxResponseBytes,
    ...(common.dispatcher === undefined ? {} : { dispatcher: common.dispatcher }),
    ...(common.fetch === undefined ? {} : { fetch: common.fetch }),
  })

  /** Whether a request goes as the client sent it: an Anthropic client's, and this provider forwards it. */
  const forwards = (request: CanonicalRequest): boolean =>
    request.native?.dialect === 'anthropic-messages' &&
    capabilities.dialects?.includes('anthropic-messages') === true

  function bodyOf(request: CanonicalRequest, streamed: boolean): string {
    if (forwards(request)) return JSON.stringify(nativeMessagesBody(request, streamed))
    return JSON.stringify(toAnthropicRequest(request, defaultMaxTokens, streamed))
  }

  async function* stream(request: CanonicalRequest): AsyncGenerator<StreamChunk> {
    const native = forwards(request)
    const body = bodyOf(request, true)
    const translator = new AnthropicStreamTranslator(id)
    const bytes = http.stream({
      method: 'POST',
      url: messagesURL,
      headers: streamHeaders,
      body,
      signal: request.signal,
      answered: () => translator.done,
      streamTypes: SSE_TYPES,
      streamError: (answer) => translator.bodyError(answer),
    })
    for await (const event of parseSse(bytes)) {
      if (!native) {
        for (const chunk of translator.push(event.data)) yield chunk
      } else {
        // The client of the same dialect gets the event itself; the router reads the canonical chunks.
        const parsed = translator.parse(event.data)
        const chunks = translator.pushParsed(parsed)
        const data = parsed as Record<string, unknown>
        const name = event.event === undefined || event.event === '' ? String(data.type ?? '') : event.event
        yield { type: 'native', dialect: 'anthropic-messages', event: { name, data } }
        for (const chunk of chunks) yield chunk
      }
      // The answer is whole at `message_stop`: a server that holds the connection open after it
      // must not keep the stream (and its consumer) waiting; leaving the loop closes the request.
      if (translator.done) return
    }
    translator.end()
  }

  return {
    specificationVersion: 'v1',
    id,
    capabilities,

    async complete(request: CanonicalRequest): Promise<CanonicalResponse> {
      const body = bodyOf(request, false)
      const answer = await http.json({
        method: 'POST',
        url: messagesURL,
        headers,
        body,
        signal: request.signal,
      })
      const response = fromAnthropicResponse(answer.body, id)
      if (!forwards(request)) return response
      return {
        ...response,
        native: { dialect: 'anthropic-messages', body: answer.body as Record<string, unknown> },
      }
    },

    stream,

    async countTokens(request: CanonicalRequest): Promise<TokenCountResponse> {
      // A count_tokens body as the client sent it, or the canonical request without what a count has not.
      const body: Record<string, unknown> = forwards(request)
        ? { ...request.native?.body, model: request.model }
        : { ...toAnthropicRequest(request, defaultMaxTokens, false) }
      delete body.max_tokens
      delete body.stream
      const answer = await http.json({
        method: 'POST',
        url: `${messagesURL}/count_tokens`,
        headers,
        body: JSON.stringify(body),
        signal: request.signal,
      })
      const count = isRecord(answer.body) ? countOrUndefined(answer.body.input_tokens) : undefined
      if (count === undefined) throw protocolError(id, 'a token count without input_tokens')
      return { provider: id, inputTokens: count }
    },

    async embed(): Promise<EmbeddingResponse> {
      throw embeddingsNotSupported(id)
    },

    health: (signal?: AbortSignal) =>
      probeHealth(http, { method: 'GET', url: `${baseURL}/v1/models`, headers, signal }),
    close: () => http.close(),
  }
}
