/**
 * The generic OpenAI-compatible provider client: any server that speaks Chat Completions under a
 * base URL (LM Studio, llama.cpp's server, LocalAI, Together, Groq, a gateway of your own). The key
 * is optional, extra headers are free-form, and the dialect switches cover how such servers differ.
 *
 * @example
 * const provider = openAICompatible({ baseURL: 'http://127.0.0.1:1234/v1', models: ['qwen2.5-7b'] })
 */

import {
  type CommonProviderOptions,
  type InferenceProvider,
  invalidOption,
  mergeCapabilities,
  type ProviderCapabilities,
  resolveBaseUrl,
  resolveCommonOptions,
} from '../../../src/provider-kit/index'
import { createSingleBaseUrlProvider } from '../../openai/provider/core'
import { resolveApiKey } from '../../openai/provider/options'
import { OPENAI_CHAT_PARAMETERS } from '../../openai/provider/wire-request'

/** Options of {@link openAICompatible}. */
export interface OpenAICompatibleProviderOptions extends CommonProviderOptions {
  /** Base URL including any version segment, e.g. `http://127.0.0.1:1234/v1`. */
  baseURL: string
  /**
   * Sent as `Authorization: Bearer` when set. Never logged nor put in errors.
   * @default undefined (no Authorization header)
   */
  apiKey?: string
  /**
   * Field that carries `maxTokens`; most compatible servers only know the older one.
   * @default 'max_tokens'
   */
  maxTokensField?: 'max_tokens' | 'max_completion_tokens'
  /**
   * Path, under `baseURL`, probed by `health()` with a GET.
   * @default '/models'
   */
  healthPath?: string
}

/**
 * Capability defaults of an unknown compatible server: chat and tools, no embeddings or vision
 * until the configuration says so, and not local unless declared.
 */
export const OPENAI_COMPATIBLE_DEFAULT_CAPABILITIES: Readonly<ProviderCapabilities> = Object.freeze({
  models: [],
  contextWindow: 32_768,
  streaming: true,
  tools: true,
  vision: false,
  embeddings: false,
  latencyMs: { p50: 1_000, p99: 8_000 },
  costPerMillion: { input: 0, output: 0 },
  local: false,
  dialects: ['openai-chat'] as const,
  parameters: OPENAI_CHAT_PARAMETERS,
})

/** Creates a generic OpenAI-compatible provider. Throws CONTINUUM_INVALID_OPTIONS naming a bad option. */
export function openAICompatible(options: OpenAICompatibleProviderOptions): InferenceProvider {
  const factory = 'openAICompatible()'
  const common = resolveCommonOptions(factory, options, 'openai_compatible')
  const capabilities = mergeCapabilities(
    factory,
    OPENAI_COMPATIBLE_DEFAULT_CAPABILITIES,
    common.models,
    options.capabilities,
  )
  const baseURL = resolveBaseUrl(factory, 'baseURL', options.baseURL)
  const apiKey = resolveApiKey(factory, options.apiKey, false)
  const maxTokensField = options.maxTokensField ?? 'max_tokens'
  if (maxTokensField !== 'max_tokens' && maxTokensField !== 'max_completion_tokens') {
    invalidOption(factory, 'maxTokensField must be "max_tokens" or "max_completion_tokens"')
  }
  const healthPath = options.healthPath ?? '/models'
  if (typeof healthPath !== 'string' || !/^\/[\w./-]*$/.test(healthPath)) {
    invalidOption(factory, 'healthPath must be a path starting with "/"')
  }
  const headers: Record<string, string> = { ...common.headers, 'content-type': 'application/json' }
  if (apiKey !== undefined) headers.authorization = `Bearer ${apiKey}`
  return createSingleBaseUrlProvider({
    common,
    capabilities,
    dialect: { maxTokensField },
    baseURL,
    headers,
    healthPath,
  })
}
