/**
 * The router's client for a local Ollama server: `/api/chat` for completions and NDJSON streams,
 * `/api/embed` for embeddings, `/api/version` as the health probe. Ollama runs on this host, so the
 * provider reports `local: true` and costs nothing per token.
 */

import {
  type CanonicalRequest,
  type CanonicalResponse,
  type EmbeddingRequest,
  type EmbeddingResponse,
  parseNdjson,
  type StreamChunk,
} from '../../../src/index'
import {
  type CommonProviderOptions,
  type ContinuumError,
  type InferenceProvider,
  isRecord,
  mergeCapabilities,
  type ProviderCapabilities,
  type ProviderHealth,
  ProviderHttp,
  probeHealth,
  protocolError,
  resolveBaseUrl,
  resolveCommonOptions,
  streamEndedEarly,
  streamFailure,
} from '../../../src/provider-kit/index'
import {
  fromOllamaChatResponse,
  fromOllamaEmbedResponse,
  ollamaFinishReason,
  ollamaToolCalls,
  ollamaUsage,
  toOllamaChatRequest,
} from './wire'

/** What `/api/chat` streams come as; a whole JSON body in their place is no stream. */
const NDJSON_TYPES = ['application/x-ndjson']

/** Ollama reports failures after the 200 as a line of their own, `{"error": "..."}`. */
function reportedError(line: unknown, providerId: string): ContinuumError | undefined {
  return isRecord(line) && typeof line.error === 'string'
    ? streamFailure(providerId, 'an error', true)
    : undefined
}

/** Options of {@link ollama}. */
export interface OllamaProviderOptions extends CommonProviderOptions {
  /**
   * The Ollama server.
   * @default "http://127.0.0.1:11434"
   */
  baseURL?: string
}

const DEFAULT_CAPABILITIES: ProviderCapabilities = {
  models: [],
  contextWindow: 8192,
  streaming: true,
  tools: true,
  vision: true,
  embeddings: true,
  latencyMs: { p50: 400, p99: 4000 },
  costPerMillion: { input: 0, output: 0 },
  local: true,
}

/**
 * Creates an Ollama provider.
 * @example ollama({ baseURL: 'http://127.0.0.1:11434', models: ['llama3.2'] })
 */
export function ollama(options: OllamaProviderOptions = {}): InferenceProvider {
  const common = resolveCommonOptions('ollama()', options, 'ollama')
  const baseURL = resolveBaseUrl('ollama()', 'baseURL', options.baseURL ?? 'http://127.0.0.1:11434')
  const capabilities = mergeCapabilities(
    'ollama()',
    DEFAULT_CAPABILITIES,
    common.models,
    options.capabilities,
  )
  const http = new ProviderHttp({ providerId: common.id, ...common })
  const providerId = common.id
  const headers = { 'content-type': 'application/json', accept: 'application/json', ...common.headers }

  return {
    specificationVersion: 'v1',
    id: providerId,
    capabilities,

    async complete(request: CanonicalRequest): Promise<CanonicalResponse> {
      const body = toOllamaChatRequest(request, request.model, false)
      const answer = await http.json({
        method: 'POST',
        url: `${baseURL}/api/chat`,
        headers,
        body: JSON.stringify(body),
        signal: request.signal,
      })
      return fromOllamaChatResponse(answer.body, providerId, request.model)
    },

    async *stream(request: CanonicalRequest): AsyncGenerator<StreamChunk> {
      const body = toOllamaChatRequest(request, request.model, true)
      let answered = false
      const bytes = http.stream({
        method: 'POST',
        url: `${baseURL}/api/chat`,
        headers: { ...headers, accept: 'application/x-ndjson' },
        body: JSON.stringify(body),
        signal: request.signal,
        answered: () => answered,
        streamTypes: NDJSON_TYPES,
        streamError: (answer) => reportedError(answer, providerId),
      })
      let toolCallCount = 0
      for await (const line of parseNdjson(bytes)) {
        if (!isRecord(line)) throw protocolError(providerId, 'a stream line that is not an object')
        const failure = reportedError(line, providerId)
        if (failure !== undefined) throw failure
        const message = isRecord(line.message) ? line.message : undefined
        if (message !== undefined) {
          if (typeof message.content === 'string' && message.content !== '') {
            yield { type: 'text-delta', text: message.content }
          }
          for (const call of ollamaToolCalls(message, providerId)) {
            yield {
              type: 'tool-call-delta',
              index: toolCallCount++,
              id: call.id,
              name: call.name,
              argumentsDelta: call.arguments,
            }
          }
        }
        if (line.done === true) {
          answered = true
          const usage = ollamaUsage(line)
          if (usage !== undefined) yield { type: 'usage', usage }
          yield { type: 'finish', finishReason: ollamaFinishReason(line.done_reason, toolCallCount > 0) }
          return
        }
      }
      throw streamEndedEarly(providerId)
    },

    async embed(request: EmbeddingRequest): Promise<EmbeddingResponse> {
      const answer = await http.json({
        method: 'POST',
        url: `${baseURL}/api/embed`,
        headers,
        body: JSON.stringify({ model: request.model, input: request.input }),
        signal: request.signal,
      })
      const embeddings = fromOllamaEmbedResponse(answer.body, providerId, request.input.length)
      const response: EmbeddingResponse = { model: request.model, provider: providerId, embeddings }
      const promptTokens = isRecord(answer.body) ? answer.body.prompt_eval_count : undefined
      if (typeof promptTokens === 'number') response.usage = { inputTokens: promptTokens, outputTokens: 0 }
      return response
    },

    health(signal?: AbortSignal): Promise<ProviderHealth> {
      return probeHealth(http, { method: 'GET', url: `${baseURL}/api/version`, headers, signal })
    },

    close: () => http.close(),
  }
}
