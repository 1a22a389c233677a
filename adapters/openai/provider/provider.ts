/**
 * The OpenAI provider client for the router: Chat Completions (complete and SSE stream), embeddings
 * and a models-list health probe against `api.openai.com` or any base URL speaking the same API.
 *
 * @example
 * const provider = openai({ apiKey: process.env.OPENAI_API_KEY!, models: ['gpt-4o-mini'] })
 */

import {
  type CommonProviderOptions,
  type InferenceProvider,
  mergeCapabilities,
  type ProviderCapabilities,
  resolveBaseUrl,
  resolveCommonOptions,
} from '../../../src/provider-kit/index'
import { createSingleBaseUrlProvider } from './core'
import { resolveApiKey, resolveHeaderValue } from './options'
import { OPENAI_CHAT_PARAMETERS } from './wire-request'

/** Options of {@link openai}. */
export interface OpenAIProviderOptions extends CommonProviderOptions {
  /** The API key, sent as `Authorization: Bearer`. Never logged nor put in errors. */
  apiKey: string
  /**
   * Base URL including the version segment.
   * @default 'https://api.openai.com/v1'
   */
  baseURL?: string
  /**
   * Sent as `OpenAI-Organization` when set.
   * @default undefined
   */
  organization?: string
  /**
   * Sent as `OpenAI-Project` when set.
   * @default undefined
   */
  project?: string
}

/** Capability defaults of OpenAI's hosted API; override them per deployment. */
export const OPENAI_DEFAULT_CAPABILITIES: Readonly<ProviderCapabilities> = Object.freeze({
  models: [],
  contextWindow: 128_000,
  streaming: true,
  tools: true,
  vision: true,
  embeddings: true,
  latencyMs: { p50: 800, p99: 5_000 },
  costPerMillion: { input: 2.5, output: 10 },
  local: false,
  dialects: ['openai-chat', 'openai-responses'] as const,
  parameters: OPENAI_CHAT_PARAMETERS,
})

/** Creates the OpenAI provider. Throws CONTINUUM_INVALID_OPTIONS naming a bad option. */
export function openai(options: OpenAIProviderOptions): InferenceProvider {
  const factory = 'openai()'
  const common = resolveCommonOptions(factory, options, 'openai')
  const capabilities = mergeCapabilities(
    factory,
    OPENAI_DEFAULT_CAPABILITIES,
    common.models,
    options.capabilities,
  )
  const apiKey = resolveApiKey(factory, options.apiKey, true)
  const baseURL = resolveBaseUrl(factory, 'baseURL', options.baseURL ?? 'https://api.openai.com/v1')
  const organization = resolveHeaderValue(factory, 'organization', options.organization)
  const project = resolveHeaderValue(factory, 'project', options.project)
  const headers: Record<string, string> = {
    ...common.headers,
    ...(organization === undefined ? {} : { 'openai-organization': organization }),
    ...(project === undefined ? {} : { 'openai-project': project }),
    'content-type': 'application/json',
    authorization: `Bearer ${apiKey}`,
  }
  return createSingleBaseUrlProvider({
    common,
    capabilities,
    dialect: { maxTokensField: 'max_completion_tokens' },
    baseURL,
    headers,
    healthPath: '/models',
  })
}
