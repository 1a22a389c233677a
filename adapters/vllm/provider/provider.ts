/**
 * The vLLM provider client for the router. vLLM serves OpenAI's Chat Completions and Embeddings
 * API; a GPU host often runs several servers (one per GPU, or on Unix sockets), so this client
 * spreads calls over them, skips one that refuses connections and moves the call to the next, and
 * probes each server's `/health`. Everything stays on the host: capabilities say `local: true`.
 *
 * @example
 * const provider = vllm({
 *   endpoints: ['http://127.0.0.1:8000', { url: 'http://localhost', socketPath: '/run/vllm/gpu1.sock' }],
 *   models: ['meta-llama/Llama-3.1-8B-Instruct'],
 * })
 */
import { Agent, type Dispatcher } from 'undici'
import { type Clock, systemClock } from '../../../src/index'
import {
  type CommonProviderOptions,
  type InferenceProvider,
  invalidOption,
  mergeCapabilities,
  type ProviderCapabilities,
  type ProviderHealth,
  ProviderHttp,
  probeHealth,
  resolveBaseUrl,
  resolveCommonOptions,
} from '../../../src/provider-kit/index'
import { createOpenAICoreProvider, type OpenAIEndpoint } from '../../openai/provider/core'
import { resolveApiKey } from '../../openai/provider/options'
import { OPENAI_CHAT_PARAMETERS } from '../../openai/provider/wire-request'
import { type VllmBalancing, VllmEndpointPool } from './pool'

/** One vLLM server: its root URL, and a Unix socket to reach it through when it listens on one. */
export interface VllmEndpointOptions {
  /** The server root, e.g. `http://127.0.0.1:8000` (a trailing `/v1` is accepted). */
  url: string
  /** A Unix socket path; the URL's host then only names the server in the `Host` header. */
  socketPath?: string
}

/** Options of {@link vllm}. */
export interface VllmProviderOptions extends CommonProviderOptions {
  /** The servers, as URLs or `{ url, socketPath }`; at least one. */
  endpoints: Array<string | VllmEndpointOptions>
  /**
   * The key vLLM was started with (`--api-key`), sent as `Authorization: Bearer`.
   * @default undefined (no Authorization header)
   */
  apiKey?: string
  /**
   * How calls are spread over healthy endpoints.
   * @default 'least_inflight'
   */
  balancing?: VllmBalancing
  /**
   * How long an endpoint that refused a connection goes to the back of the order, in ms.
   * @default 5000
   */
  unreachableCooldownMs?: number
  /**
   * Time source of the cooldown.
   * @default systemClock
   */
  clock?: Clock
}

/** Capability defaults of a local vLLM server: free, on this host, OpenAI-compatible. */
export const VLLM_DEFAULT_CAPABILITIES: Readonly<ProviderCapabilities> = Object.freeze({
  models: [],
  contextWindow: 32_768,
  streaming: true,
  tools: true,
  vision: false,
  embeddings: true,
  latencyMs: { p50: 300, p99: 3_000 },
  costPerMillion: { input: 0, output: 0 },
  local: true,
  dialects: ['openai-chat'] as const,
  // vLLM also takes `top_k` as a sampling extension.
  parameters: [...OPENAI_CHAT_PARAMETERS, 'topK'] as const,
})

interface ResolvedEndpoint {
  root: string
  socketPath: string | undefined
}

/** Creates the vLLM provider. Throws CONTINUUM_INVALID_OPTIONS naming a bad option. */
export function vllm(options: VllmProviderOptions): InferenceProvider {
  const factory = 'vllm()'
  const common = resolveCommonOptions(factory, options, 'vllm')
  const capabilities = mergeCapabilities(
    factory,
    VLLM_DEFAULT_CAPABILITIES,
    common.models,
    options.capabilities,
  )
  const apiKey = resolveApiKey(factory, options.apiKey, false)
  const resolved = resolveEndpoints(factory, options.endpoints)
  const balancing = options.balancing ?? 'least_inflight'
  if (balancing !== 'round_robin' && balancing !== 'least_inflight') {
    invalidOption(factory, 'balancing must be "round_robin" or "least_inflight"')
  }
  const cooldownMs = options.unreachableCooldownMs ?? 5_000
  if (!Number.isFinite(cooldownMs) || cooldownMs < 0) {
    invalidOption(factory, 'unreachableCooldownMs must be a non-negative number')
  }
  const clock = options.clock ?? systemClock
  const headers: Record<string, string> = { ...common.headers, 'content-type': 'application/json' }
  if (apiKey !== undefined) headers.authorization = `Bearer ${apiKey}`

  const socketAgents: Dispatcher[] = []
  const endpoints = resolved.map(({ root, socketPath }): OpenAIEndpoint & { root: string } => {
    let dispatcher = common.dispatcher
    if (socketPath !== undefined) {
      dispatcher = new Agent({ connect: { socketPath }, keepAliveTimeout: 30_000 })
      socketAgents.push(dispatcher)
    }
    const http = new ProviderHttp({
      providerId: common.id,
      timeoutMs: common.timeoutMs,
      maxResponseBytes: common.maxResponseBytes,
      ...(dispatcher === undefined ? {} : { dispatcher }),
      ...(common.fetch === undefined ? {} : { fetch: common.fetch }),
    })
    const paths = {
      chat: `${root}/v1/chat/completions`,
      embeddings: `${root}/v1/embeddings`,
      responses: `${root}/v1/responses`,
    }
    return { root, http, url: (operation) => paths[operation] }
  })
  const pool = new VllmEndpointPool(endpoints, balancing, cooldownMs, clock)

  async function health(signal: AbortSignal | undefined): Promise<ProviderHealth> {
    const results = await Promise.all(
      endpoints.map(async (endpoint) => {
        const result = await probeHealth(endpoint.http, {
          method: 'GET',
          url: `${endpoint.root}/health`,
          headers,
          signal,
        })
        if (result.status === 'healthy') pool.markReachable(endpoint)
        else if (result.detail === 'CONTINUUM_PROVIDER_UNAVAILABLE') pool.markUnreachable(endpoint)
        return result
      }),
    )
    return combineHealth(results)
  }

  return createOpenAICoreProvider({
    id: common.id,
    capabilities,
    dialect: { maxTokensField: 'max_tokens' },
    pool,
    headers: () => headers,
    health,
    close: async () => {
      await Promise.all([
        ...endpoints.map((endpoint) => endpoint.http.close()),
        ...socketAgents.map((agent) => agent.close()),
      ])
    },
  })
}

/** Healthy if every endpoint is, unhealthy if none is, degraded in between. */
function combineHealth(results: readonly ProviderHealth[]): ProviderHealth {
  const healthy = results.filter((result) => result.status === 'healthy')
  const detail = `${healthy.length}/${results.length} endpoints healthy`
  if (healthy.length === 0) return { status: 'unhealthy', detail }
  const latencyMs = Math.min(...healthy.map((result) => result.latencyMs ?? 0))
  return { status: healthy.length === results.length ? 'healthy' : 'degraded', latencyMs, detail }
}

function resolveEndpoints(factory: string, value: unknown): ResolvedEndpoint[] {
  if (!Array.isArray(value) || value.length === 0)
    invalidOption(factory, 'endpoints must list at least one server')
  return value.map((entry: unknown, index) => {
    const option = `endpoints[${index}]`
    const endpoint = typeof entry === 'string' ? { url: entry } : entry
    if (typeof endpoint !== 'object' || endpoint === null) {
      invalidOption(factory, `${option} must be a URL or { url, socketPath }`)
    }
    const { url, socketPath } = endpoint as VllmEndpointOptions
    const root = resolveBaseUrl(factory, `${option}.url`, url).replace(/\/v1$/, '')
    if (
      socketPath !== undefined &&
      (typeof socketPath !== 'string' || socketPath === '' || socketPath.includes('\0'))
    ) {
      invalidOption(factory, `${option}.socketPath must be a non-empty path`)
    }
    return { root, socketPath }
  })
}
