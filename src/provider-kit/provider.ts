/**
 * The versioned provider contract (`specificationVersion: 'v1'`). Every provider client in
 * `adapters/<protocol>/provider.ts` implements InferenceProvider; the router only ever talks to
 * this interface, so routing, fallback and resilience never know a wire protocol. Additive changes
 * only; a breaking change means a `'v2'` literal next to this one.
 *
 * Error contract for implementers: throw ContinuumError only, built with
 * `providerErrorFromResponse` / `providerErrorFromNetwork` (src/router/provider-errors.ts), so the
 * router can tell transient failures (`isRetryable`) from request errors. When `request.signal`
 * aborts, rethrow the AbortError as is. Never put request content or credentials in a message.
 */
import type {
  CanonicalParameter,
  CanonicalRequest,
  CanonicalResponse,
  EmbeddingRequest,
  EmbeddingResponse,
  NativeDialect,
  StreamChunk,
  TokenCountResponse,
} from '../protocol/canonical'

/** What a provider can do, and what it costs; the router's policies read these. */
export interface ProviderCapabilities {
  /** Provider-specific model names it serves (after alias mapping). Empty means "any model". */
  models: string[]
  /** Largest context in tokens. */
  contextWindow: number
  streaming: boolean
  tools: boolean
  vision: boolean
  embeddings: boolean
  /** Static latency estimate; `latency_optimized` blends it with measured latency. */
  latencyMs: { p50: number; p99: number }
  /** US dollars per million tokens. */
  costPerMillion: { input: number; output: number }
  /** Runs on this host or network (vLLM, TGI, Ollama): data never leaves. */
  local: boolean
  /**
   * Dialects whose requests it forwards verbatim, only the model mapped (`request.native`).
   * @default [] (every request is translated from the canonical form)
   */
  dialects?: readonly NativeDialect[]
  /**
   * Optional canonical parameters it puts on its wire; the router refuses it requests using others.
   * @default [] (only the base fields)
   */
  parameters?: readonly CanonicalParameter[]
}

/** Coarse health of a provider or of the whole router. */
export type HealthStatus = 'healthy' | 'degraded' | 'unhealthy'

/** One health probe result. `detail` is content-free and never holds secrets. */
export interface ProviderHealth {
  status: HealthStatus
  latencyMs?: number
  detail?: string
}

/** A model provider the router can send requests to. */
export interface InferenceProvider {
  readonly specificationVersion: 'v1'
  /** Unique id within a router, e.g. the config table name `openai` or `local-vllm`. */
  readonly id: string
  readonly capabilities: ProviderCapabilities
  /** One complete answer. */
  complete(request: CanonicalRequest): Promise<CanonicalResponse>
  /**
   * A streamed answer. Aborts its HTTP request when the consumer breaks out of the loop
   * (`return()` on the iterator) and honours `request.signal`.
   */
  stream(request: CanonicalRequest): AsyncIterable<StreamChunk>
  /** Embeddings; throws ContinuumError `CONTINUUM_NOT_SUPPORTED` when the provider has none. */
  embed(request: EmbeddingRequest): Promise<EmbeddingResponse>
  /**
   * Counts the input tokens of a request without running it, where the provider's API can.
   * @default undefined (the router refuses count requests with CONTINUUM_NOT_SUPPORTED)
   */
  countTokens?(request: CanonicalRequest): Promise<TokenCountResponse>
  /** A cheap liveness probe (e.g. list models). */
  health(signal?: AbortSignal): Promise<ProviderHealth>
  /** Releases connection pools and timers; the router calls it from `close()`. */
  close?(): Promise<void>
}

/** Whether a provider serves a provider-specific model name (empty `models` means any). */
export function providerServesModel(provider: InferenceProvider, model: string): boolean {
  const models = provider.capabilities.models
  return models.length === 0 || models.includes(model)
}
