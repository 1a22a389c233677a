/**
 * The router's client for Amazon Bedrock Runtime: Converse for completions, ConverseStream (binary
 * event stream) for streaming, InvokeModel with Titan text embeddings for embeddings, and the
 * control plane's ListFoundationModels as the health probe. Every call is SigV4-signed for service
 * `bedrock`; the model id is the canonical request's `model` (a model id, inference profile id or ARN).
 */
import {
  type CanonicalRequest,
  type CanonicalResponse,
  type Clock,
  ContinuumError,
  type EmbeddingRequest,
  type EmbeddingResponse,
  type StreamChunk,
  systemClock,
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
  resolveBaseUrl,
  resolveCommonOptions,
  streamEndedEarly,
} from '../../../src/provider-kit/index'
import { streamExceptionError } from './exceptions'
import { type AwsCredentialsSource, BedrockSigner } from './signing'
import { converseFinishReason, converseUsage, fromConverseResponse, toConverseRequest } from './wire'
import { decodeEventStream } from './wire-event-stream'

/** What ConverseStream answers as (AWS event-stream framing); a whole JSON body in its place is no stream. */
const EVENT_STREAM_TYPE = 'application/vnd.amazon.eventstream'

/** Options of {@link bedrock}. */
export interface BedrockProviderOptions extends CommonProviderOptions {
  /** AWS region, e.g. `us-east-1`. */
  region: string
  /** Static credentials or a function returning current ones. */
  credentials: AwsCredentialsSource
  /**
   * Runtime endpoint.
   * @default "https://bedrock-runtime.{region}.amazonaws.com"
   */
  baseURL?: string
  /**
   * Control-plane endpoint used by `health()` (ListFoundationModels).
   * @default "https://bedrock.{region}.amazonaws.com"
   */
  controlPlaneURL?: string
  /**
   * Embedding calls in flight at once (Titan embeds one text per call).
   * @default 4
   */
  embeddingConcurrency?: number
  /** Time source for signing dates. @default systemClock */
  clock?: Clock
}

const DEFAULT_CAPABILITIES: ProviderCapabilities = {
  models: [],
  contextWindow: 200_000,
  streaming: true,
  tools: true,
  vision: true,
  embeddings: true,
  latencyMs: { p50: 800, p99: 6000 },
  costPerMillion: { input: 3, output: 15 },
  local: false,
}

function validateCredentials(credentials: unknown): void {
  if (typeof credentials === 'function') return
  const record = credentials as Record<string, unknown> | null
  if (typeof record !== 'object' || record === null) {
    invalidOption(
      'bedrock()',
      'credentials must be { accessKeyId, secretAccessKey, sessionToken? } or a function',
    )
  }
  for (const key of ['accessKeyId', 'secretAccessKey'] as const) {
    if (typeof record[key] !== 'string' || record[key] === '') {
      invalidOption('bedrock()', `credentials.${key} must be a non-empty string`)
    }
  }
  if (record.sessionToken !== undefined && typeof record.sessionToken !== 'string') {
    invalidOption('bedrock()', 'credentials.sessionToken must be a string')
  }
}

/**
 * Creates an Amazon Bedrock provider.
 * @example bedrock({ region: 'us-east-1', credentials: { accessKeyId, secretAccessKey } })
 */
export function bedrock(options: BedrockProviderOptions): InferenceProvider {
  const common = resolveCommonOptions('bedrock()', options, 'bedrock')
  if (typeof options.region !== 'string' || !/^[a-z]{2}(-[a-z]+)+-\d+$/.test(options.region)) {
    invalidOption('bedrock()', 'region must be an AWS region name such as "us-east-1"')
  }
  validateCredentials(options.credentials)
  const region = options.region
  const baseURL = resolveBaseUrl(
    'bedrock()',
    'baseURL',
    options.baseURL ?? `https://bedrock-runtime.${region}.amazonaws.com`,
  )
  const controlPlaneURL = resolveBaseUrl(
    'bedrock()',
    'controlPlaneURL',
    options.controlPlaneURL ?? `https://bedrock.${region}.amazonaws.com`,
  )
  const embeddingConcurrency = options.embeddingConcurrency ?? 4
  if (!Number.isInteger(embeddingConcurrency) || embeddingConcurrency < 1) {
    invalidOption('bedrock()', 'embeddingConcurrency must be a positive integer')
  }
  const capabilities = mergeCapabilities(
    'bedrock()',
    DEFAULT_CAPABILITIES,
    common.models,
    options.capabilities,
  )
  const providerId = common.id
  const http = new ProviderHttp({ providerId, ...common })
  const signer = new BedrockSigner(region, options.credentials, options.clock ?? systemClock, providerId)
  const jsonHeaders = { 'content-type': 'application/json', accept: 'application/json', ...common.headers }

  async function signedPost(path: string, body: string, accept: string) {
    const url = new URL(`${baseURL}${path}`)
    const headers = await signer.sign('POST', url, { ...jsonHeaders, accept }, body)
    return { method: 'POST' as const, url: url.href, headers, body }
  }

  /**
   * The model's path: its id as one segment. `encodeURIComponent` leaves dots alone and URL
   * parsing resolves a `.` or `..` segment, so those names would reach `/converse` or `/invoke`
   * at the root with a valid signature; no model is named that way.
   */
  function modelPath(model: string, action: 'converse' | 'converse-stream' | 'invoke'): string {
    if (model === '.' || model === '..') {
      throw new ContinuumError('CONTINUUM_MODEL_NOT_FOUND', `Provider ${providerId} serves no such model`, {
        details: { provider: providerId },
      })
    }
    return `/model/${encodeURIComponent(model)}/${action}`
  }

  async function embedOne(model: string, input: string, signal: AbortSignal | undefined) {
    const call = await signedPost(
      modelPath(model, 'invoke'),
      JSON.stringify({ inputText: input }),
      'application/json',
    )
    const answer = await http.json({ ...call, signal })
    const body = answer.body
    if (
      !isRecord(body) ||
      !Array.isArray(body.embedding) ||
      body.embedding.some((value) => typeof value !== 'number')
    ) {
      throw protocolError(providerId, 'an InvokeModel answer without a numeric embedding')
    }
    const tokens = typeof body.inputTextTokenCount === 'number' ? body.inputTextTokenCount : 0
    return { embedding: body.embedding as number[], tokens }
  }

  return {
    specificationVersion: 'v1',
    id: providerId,
    capabilities,

    async complete(request: CanonicalRequest): Promise<CanonicalResponse> {
      const body = JSON.stringify(toConverseRequest(request))
      const call = await signedPost(modelPath(request.model, 'converse'), body, 'application/json')
      const answer = await http.json({ ...call, signal: request.signal })
      return fromConverseResponse(
        answer.body,
        providerId,
        request.model,
        answer.head.headers['x-amzn-requestid'],
      )
    },

    async *stream(request: CanonicalRequest): AsyncGenerator<StreamChunk> {
      const body = JSON.stringify(toConverseRequest(request))
      const call = await signedPost(modelPath(request.model, 'converse-stream'), body, EVENT_STREAM_TYPE)
      // Converse numbers content blocks across text and tools; the canonical index counts tool calls only.
      const toolIndexByBlock = new Map<number, number>()
      let stopReason: unknown
      const bytes = http.stream({ ...call, signal: request.signal, streamTypes: [EVENT_STREAM_TYPE] })
      for await (const message of decodeEventStream(bytes)) {
        if (message.messageType !== 'event') throw streamExceptionError(providerId, message.type)
        let event: unknown
        try {
          event = JSON.parse(message.payload)
        } catch {
          throw protocolError(providerId, 'an event whose payload is not JSON')
        }
        if (!isRecord(event)) throw protocolError(providerId, 'an event whose payload is not an object')
        const blockIndex = typeof event.contentBlockIndex === 'number' ? event.contentBlockIndex : 0
        switch (message.type) {
          case 'contentBlockStart': {
            const toolUse = isRecord(event.start) ? event.start.toolUse : undefined
            if (!isRecord(toolUse)) break
            const index = toolIndexByBlock.size
            toolIndexByBlock.set(blockIndex, index)
            const chunk: Extract<StreamChunk, { type: 'tool-call-delta' }> = {
              type: 'tool-call-delta',
              index,
              argumentsDelta: '',
            }
            if (typeof toolUse.toolUseId === 'string') chunk.id = toolUse.toolUseId
            if (typeof toolUse.name === 'string') chunk.name = toolUse.name
            yield chunk
            break
          }
          case 'contentBlockDelta': {
            const delta = isRecord(event.delta) ? event.delta : {}
            if (typeof delta.text === 'string' && delta.text !== '')
              yield { type: 'text-delta', text: delta.text }
            else if (isRecord(delta.toolUse) && typeof delta.toolUse.input === 'string') {
              const index = toolIndexByBlock.get(blockIndex)
              if (index === undefined)
                throw protocolError(providerId, 'tool input for a block that did not start a tool')
              yield { type: 'tool-call-delta', index, argumentsDelta: delta.toolUse.input }
            }
            break
          }
          case 'messageStop':
            stopReason = event.stopReason
            break
          case 'metadata': {
            const usage = converseUsage(event.usage)
            if (usage !== undefined) yield { type: 'usage', usage }
            break
          }
          default:
            // messageStart, contentBlockStop and event types added later carry nothing we surface.
            break
        }
      }
      if (stopReason === undefined) throw streamEndedEarly(providerId)
      yield { type: 'finish', finishReason: converseFinishReason(stopReason) }
    },

    async embed(request: EmbeddingRequest): Promise<EmbeddingResponse> {
      const embeddings: number[][] = new Array(request.input.length)
      let inputTokens = 0
      let next = 0
      let failed = false
      const worker = async (): Promise<void> => {
        while (next < request.input.length && !failed) {
          const index = next++
          const result = await embedOne(request.model, request.input[index]!, request.signal).catch(
            (error: unknown) => {
              // Stop the other workers from starting calls whose answers would be thrown away.
              failed = true
              throw error
            },
          )
          embeddings[index] = result.embedding
          inputTokens += result.tokens
        }
      }
      await Promise.all(Array.from({ length: Math.min(embeddingConcurrency, request.input.length) }, worker))
      return {
        model: request.model,
        provider: providerId,
        embeddings,
        usage: { inputTokens, outputTokens: 0 },
      }
    },

    health: (signal?: AbortSignal): Promise<ProviderHealth> =>
      probeHealth(http, async () => {
        const url = new URL(`${controlPlaneURL}/foundation-models?byOutputModality=TEXT`)
        const headers = await signer.sign(
          'GET',
          url,
          { accept: 'application/json', ...common.headers },
          undefined,
        )
        return { method: 'GET', url: url.href, headers, signal }
      }),

    close: () => http.close(),
  }
}
