/**
 * A small in-test provider implementing the v1 contract. Each call runs the next step of a
 * script (an answer, a thrown error, a hang until aborted, or a custom function), so tests can
 * drive the router through failures, fallbacks and streams without a wire protocol.
 */

import { ContinuumError } from 'continuum-proxy'
import type {
  CanonicalRequest,
  CanonicalResponse,
  EmbeddingRequest,
  EmbeddingResponse,
  InferenceProvider,
  ProviderCapabilities,
  ProviderHealth,
  StreamChunk,
} from 'continuum-proxy/router'

/** What one call does. */
export type Step =
  | 'ok'
  | 'hang'
  | Error
  | ((request: CanonicalRequest) => Promise<CanonicalResponse> | CanonicalResponse)
  | { chunks: StreamChunk[]; failAfter?: Error; hangAfter?: boolean }

export interface FakeProviderOptions {
  capabilities?: Partial<ProviderCapabilities>
  /** Steps consumed one per call; the last step repeats. @default ['ok'] */
  steps?: Step[]
  health?: ProviderHealth | Error | 'hang'
}

export const defaultCapabilities: ProviderCapabilities = {
  models: [],
  contextWindow: 128_000,
  streaming: true,
  tools: true,
  vision: false,
  embeddings: true,
  latencyMs: { p50: 100, p99: 500 },
  costPerMillion: { input: 1, output: 2 },
  local: false,
}

function hangUntilAborted(signal: AbortSignal | undefined): Promise<never> {
  return new Promise((_, reject) => {
    const abort = (): void => reject(Object.assign(new Error('aborted'), { name: 'AbortError' }))
    if (signal?.aborted) abort()
    signal?.addEventListener('abort', abort, { once: true })
  })
}

export class FakeProvider implements InferenceProvider {
  readonly specificationVersion = 'v1' as const
  readonly capabilities: ProviderCapabilities
  readonly calls: CanonicalRequest[] = []
  readonly signals: AbortSignal[] = []
  closed = false
  /** Set when a stream's cleanup ran (the consumer broke out or the router aborted it). */
  streamsCleanedUp = 0
  #steps: Step[]
  #health: FakeProviderOptions['health']

  constructor(
    readonly id: string,
    options: FakeProviderOptions = {},
  ) {
    this.capabilities = { ...defaultCapabilities, ...options.capabilities }
    this.#steps = options.steps ?? ['ok']
    this.#health = options.health ?? { status: 'healthy', latencyMs: 5 }
  }

  setSteps(steps: Step[]): void {
    this.#steps = steps
  }

  #next(request: CanonicalRequest): Step {
    this.calls.push(request)
    if (request.signal !== undefined) this.signals.push(request.signal)
    const step = this.#steps.length > 1 ? this.#steps.shift()! : this.#steps[0]!
    return step
  }

  async complete(request: CanonicalRequest): Promise<CanonicalResponse> {
    const step = this.#next(request)
    if (step === 'hang') return hangUntilAborted(request.signal)
    if (step instanceof Error) throw step
    if (typeof step === 'function') return step(request)
    return {
      id: `response-${this.calls.length}`,
      model: request.model,
      provider: this.id,
      content: `answer from ${this.id}`,
      toolCalls: [],
      finishReason: 'stop',
      usage: { inputTokens: 10, outputTokens: 5 },
    }
  }

  async *stream(request: CanonicalRequest): AsyncIterable<StreamChunk> {
    const step = this.#next(request)
    try {
      if (step === 'hang') await hangUntilAborted(request.signal)
      if (step instanceof Error) throw step
      const script =
        typeof step === 'object' && 'chunks' in step
          ? step
          : {
              chunks: [
                { type: 'text-delta', text: `streamed from ${this.id}` },
                { type: 'finish', finishReason: 'stop' },
              ] as StreamChunk[],
            }
      for (const chunk of script.chunks) yield chunk
      if (script.failAfter !== undefined) throw script.failAfter
      if (script.hangAfter === true) await hangUntilAborted(request.signal)
    } finally {
      this.streamsCleanedUp += 1
    }
  }

  async embed(request: EmbeddingRequest): Promise<EmbeddingResponse> {
    this.calls.push(request as unknown as CanonicalRequest)
    if (!this.capabilities.embeddings)
      throw new ContinuumError('CONTINUUM_NOT_SUPPORTED', `${this.id} has no embeddings`)
    return {
      model: request.model,
      provider: this.id,
      embeddings: request.input.map((text) => [text.length, 1]),
      usage: { inputTokens: request.input.length, outputTokens: 0 },
    }
  }

  async health(signal?: AbortSignal): Promise<ProviderHealth> {
    const health = this.#health
    if (health === 'hang') return hangUntilAborted(signal)
    if (health instanceof Error) throw health
    return health ?? { status: 'healthy' }
  }

  async close(): Promise<void> {
    this.closed = true
  }
}

/** A retryable 503 as a provider would map it. */
export const serverError = (provider = 'x'): ContinuumError =>
  new ContinuumError('CONTINUUM_PROVIDER_ERROR', `Provider ${provider} answered with status 503`, {
    details: { provider, upstreamStatus: 503 },
    isRetryable: true,
  })

/** A manual clock for breaker and window tests. */
export function manualClock(start = 1_000_000): { now: () => number; advance: (ms: number) => void } {
  let time = start
  return { now: () => time, advance: (ms) => (time += ms) }
}

export const chat = (model = 'm', extra: Partial<CanonicalRequest> = {}): CanonicalRequest => ({
  model,
  messages: [{ role: 'user', content: 'hello there' }],
  ...extra,
})

/** Reads a whole stream into an array. */
export async function collect(stream: AsyncIterable<StreamChunk>): Promise<StreamChunk[]> {
  const chunks: StreamChunk[] = []
  for await (const chunk of stream) chunks.push(chunk)
  return chunks
}
