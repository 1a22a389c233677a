/**
 * The router's client for a Hugging Face Text Generation Inference server on this host or network.
 * By default it speaks TGI's OpenAI-compatible Messages API (`mode: 'messages'`), which applies the
 * model's own chat template and supports tools; `mode: 'generate'` uses the native `/generate`
 * routes with a plain rendered prompt. TGI serves no embeddings (that is TEI, a separate server).
 */

import {
  type CanonicalRequest,
  type CanonicalResponse,
  type EmbeddingResponse,
  parseSse,
  type StreamChunk,
} from '../../../src/index'
import {
  type CommonProviderOptions,
  type ContinuumError,
  embeddingsNotSupported,
  type InferenceProvider,
  invalidOption,
  isRecord,
  mergeCapabilities,
  type ProviderCapabilities,
  type ProviderHealth,
  ProviderHttp,
  type ProviderHttpHead,
  probeHealth,
  protocolError,
  resolveBaseUrl,
  resolveCommonOptions,
  streamEndedEarly,
  streamFailure,
} from '../../../src/provider-kit/index'
import { argumentsText, fromTgiChatResponse, tgiFinishReason, tgiUsage, toTgiChatRequest } from './wire'
import { generateFinishReason, headerCount, toTgiGenerateRequest } from './wire-generate'

/** What TGI streams come as; a whole JSON body in their place is no stream. */
const SSE_TYPES = ['text/event-stream']

/** Options of {@link tgi}. */
export interface TgiProviderOptions extends CommonProviderOptions {
  /**
   * The TGI server.
   * @default "http://127.0.0.1:8080"
   */
  baseURL?: string
  /** Bearer token, for TGI behind Inference Endpoints or a gateway. @default undefined */
  apiKey?: string
  /**
   * `messages`: `/v1/chat/completions` (chat template, tools). `generate`: `/generate` with a plain prompt.
   * @default "messages"
   */
  mode?: 'messages' | 'generate'
}

const DEFAULT_CAPABILITIES: ProviderCapabilities = {
  models: [],
  contextWindow: 8192,
  streaming: true,
  tools: true,
  vision: false,
  embeddings: false,
  latencyMs: { p50: 300, p99: 3000 },
  costPerMillion: { input: 0, output: 0 },
  local: true,
}

/**
 * Creates a TGI provider.
 * @example tgi({ baseURL: 'http://127.0.0.1:8080', models: ['meta-llama/Llama-3.1-8B-Instruct'] })
 */
export function tgi(options: TgiProviderOptions = {}): InferenceProvider {
  const common = resolveCommonOptions('tgi()', options, 'tgi')
  const baseURL = resolveBaseUrl('tgi()', 'baseURL', options.baseURL ?? 'http://127.0.0.1:8080')
  const mode = options.mode ?? 'messages'
  if (mode !== 'messages' && mode !== 'generate')
    invalidOption('tgi()', 'mode must be "messages" or "generate"')
  if (options.apiKey !== undefined && (typeof options.apiKey !== 'string' || options.apiKey === '')) {
    invalidOption('tgi()', 'apiKey must be a non-empty string')
  }
  const defaults = mode === 'generate' ? { ...DEFAULT_CAPABILITIES, tools: false } : DEFAULT_CAPABILITIES
  const capabilities = mergeCapabilities('tgi()', defaults, common.models, options.capabilities)
  const http = new ProviderHttp({ providerId: common.id, ...common })
  const providerId = common.id
  const headers: Record<string, string> = { 'content-type': 'application/json', ...common.headers }
  if (options.apiKey !== undefined) headers.authorization = `Bearer ${options.apiKey}`

  async function completeMessages(request: CanonicalRequest): Promise<CanonicalResponse> {
    const answer = await http.json({
      method: 'POST',
      url: `${baseURL}/v1/chat/completions`,
      headers,
      body: JSON.stringify(toTgiChatRequest(request, false)),
      signal: request.signal,
    })
    return fromTgiChatResponse(answer.body, providerId, request.model)
  }

  async function completeGenerate(request: CanonicalRequest): Promise<CanonicalResponse> {
    const answer = await http.json({
      method: 'POST',
      url: `${baseURL}/generate`,
      headers,
      body: JSON.stringify(toTgiGenerateRequest(request, providerId)),
      signal: request.signal,
    })
    const body = answer.body
    if (!isRecord(body) || typeof body.generated_text !== 'string') {
      throw protocolError(providerId, 'a generate answer without generated_text')
    }
    const details = isRecord(body.details) ? body.details : {}
    const response: CanonicalResponse = {
      id: `tgi-${Date.now()}`,
      model: request.model,
      provider: providerId,
      content: body.generated_text,
      toolCalls: [],
      finishReason: generateFinishReason(details.finish_reason),
    }
    const inputTokens = headerCount(answer.head.headers, 'x-prompt-tokens')
    const outputTokens =
      headerCount(answer.head.headers, 'x-generated-tokens') ??
      (typeof details.generated_tokens === 'number' ? details.generated_tokens : undefined)
    if (inputTokens !== undefined && outputTokens !== undefined)
      response.usage = { inputTokens, outputTokens }
    return response
  }

  async function* streamMessages(request: CanonicalRequest): AsyncGenerator<StreamChunk> {
    let answered = false
    const bytes = http.stream({
      method: 'POST',
      url: `${baseURL}/v1/chat/completions`,
      headers: { ...headers, accept: 'text/event-stream' },
      body: JSON.stringify(toTgiChatRequest(request, true)),
      signal: request.signal,
      answered: () => answered,
      streamTypes: SSE_TYPES,
      streamError: reportedError,
    })
    let finishReason: unknown
    let sawToolCalls = false
    for await (const event of parseSse(bytes)) {
      if (event.data === '[DONE]') {
        if (finishReason === undefined) throw streamEndedEarly(providerId)
        answered = true
        yield { type: 'finish', finishReason: tgiFinishReason(finishReason, sawToolCalls) }
        return
      }
      const chunk = parseEvent(event.data)
      const usage = tgiUsage(chunk.usage)
      if (usage !== undefined) yield { type: 'usage', usage }
      const choice: unknown = Array.isArray(chunk.choices) ? chunk.choices[0] : undefined
      if (!isRecord(choice)) continue
      const delta = isRecord(choice.delta) ? choice.delta : {}
      if (typeof delta.content === 'string' && delta.content !== '')
        yield { type: 'text-delta', text: delta.content }
      // TGI 3.x sends an array like OpenAI; 2.x sent a single object.
      const calls: unknown[] = Array.isArray(delta.tool_calls)
        ? delta.tool_calls
        : isRecord(delta.tool_calls)
          ? [delta.tool_calls]
          : []
      for (const call of calls) {
        if (!isRecord(call)) continue
        sawToolCalls = true
        const fn = isRecord(call.function) ? call.function : {}
        const part: Extract<StreamChunk, { type: 'tool-call-delta' }> = {
          type: 'tool-call-delta',
          index: typeof call.index === 'number' ? call.index : 0,
          argumentsDelta:
            fn.arguments === undefined || fn.arguments === null
              ? ''
              : argumentsText(fn.arguments, providerId),
        }
        if (typeof call.id === 'string' && call.id !== '') part.id = call.id
        if (typeof fn.name === 'string' && fn.name !== '') part.name = fn.name
        yield part
      }
      if (choice.finish_reason !== null && choice.finish_reason !== undefined)
        finishReason = choice.finish_reason
    }
    // Some builds close without `[DONE]`; a stream that reported its finish reason is still complete.
    if (finishReason === undefined) throw streamEndedEarly(providerId)
    yield { type: 'finish', finishReason: tgiFinishReason(finishReason, sawToolCalls) }
  }

  async function* streamGenerate(request: CanonicalRequest): AsyncGenerator<StreamChunk> {
    let head: ProviderHttpHead | undefined
    let answered = false
    const bytes = http.stream(
      {
        method: 'POST',
        url: `${baseURL}/generate_stream`,
        headers: { ...headers, accept: 'text/event-stream' },
        body: JSON.stringify(toTgiGenerateRequest(request, providerId)),
        signal: request.signal,
        answered: () => answered,
        streamTypes: SSE_TYPES,
        streamError: reportedError,
      },
      (received) => {
        head = received
      },
    )
    for await (const event of parseSse(bytes)) {
      const chunk = parseEvent(event.data)
      const token = isRecord(chunk.token) ? chunk.token : undefined
      if (
        token !== undefined &&
        token.special !== true &&
        typeof token.text === 'string' &&
        token.text !== ''
      ) {
        yield { type: 'text-delta', text: token.text }
      }
      if (isRecord(chunk.details)) {
        answered = true
        const inputTokens = head === undefined ? undefined : headerCount(head.headers, 'x-prompt-tokens')
        const outputTokens = chunk.details.generated_tokens
        if (inputTokens !== undefined && typeof outputTokens === 'number') {
          yield { type: 'usage', usage: { inputTokens, outputTokens } }
        }
        yield { type: 'finish', finishReason: generateFinishReason(chunk.details.finish_reason) }
        return
      }
    }
    throw streamEndedEarly(providerId)
  }

  function parseEvent(data: string): Record<string, unknown> {
    let value: unknown
    try {
      value = JSON.parse(data)
    } catch {
      throw protocolError(providerId, 'a stream event that is not JSON')
    }
    if (!isRecord(value)) throw protocolError(providerId, 'a stream event that is not an object')
    const failure = reportedError(value)
    if (failure !== undefined) throw failure
    return value
  }

  /** TGI reports failures after the 200 as `{"error": ..., "error_type": ...}` events. */
  function reportedError(value: unknown): ContinuumError | undefined {
    if (!isRecord(value) || value.error === undefined) return undefined
    const kind = typeof value.error_type === 'string' ? value.error_type : 'error'
    return streamFailure(providerId, `a ${kind.replace(/[^a-z_]/gi, '')} error`, kind !== 'validation')
  }

  return {
    specificationVersion: 'v1',
    id: providerId,
    capabilities,
    complete: mode === 'messages' ? completeMessages : completeGenerate,
    stream: mode === 'messages' ? streamMessages : streamGenerate,
    async embed(): Promise<EmbeddingResponse> {
      throw embeddingsNotSupported(providerId)
    },
    health(signal?: AbortSignal): Promise<ProviderHealth> {
      return probeHealth(http, { method: 'GET', url: `${baseURL}/health`, headers, signal })
    },
    close: () => http.close(),
  }
}
