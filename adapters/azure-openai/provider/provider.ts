/**
 * The Azure OpenAI provider client for the router. Azure speaks OpenAI's Chat Completions and
 * Embeddings wire format under per-deployment paths
 * (`/openai/deployments/{deployment}/chat/completions?api-version=...`) and authenticates with an
 * `api-key` header or a Microsoft Entra bearer token; the router's model names map onto deployments.
 *
 * @example
 * const provider = azureOpenAI({
 *   endpoint: 'https://my-resource.openai.azure.com',
 *   apiKey: process.env.AZURE_OPENAI_API_KEY!,
 *   deployments: { 'gpt-4o': 'gpt-4o-prod' },
 * })
 */
import {
  type CommonProviderOptions,
  ContinuumError,
  type InferenceProvider,
  invalidOption,
  isAbortError,
  mergeCapabilities,
  type ProviderCapabilities,
  ProviderHttp,
  probeHealth,
  resolveBaseUrl,
  resolveCommonOptions,
} from '../../../src/provider-kit/index'
import {
  createOpenAICoreProvider,
  type OpenAIOperation,
  singleEndpointPool,
} from '../../openai/provider/core'
import { resolveApiKey, resolveHeaderValue } from '../../openai/provider/options'
import { OPENAI_CHAT_PARAMETERS } from '../../openai/provider/wire-request'

/** Options of {@link azureOpenAI}. Give exactly one of `apiKey` and `tokenProvider`. */
export interface AzureOpenAIProviderOptions extends CommonProviderOptions {
  /** The resource endpoint, e.g. `https://my-resource.openai.azure.com`. */
  endpoint: string
  /**
   * The resource key, sent as `api-key`. Never logged nor put in errors.
   * @default undefined
   */
  apiKey?: string
  /**
   * Returns a Microsoft Entra access token (scope `https://cognitiveservices.azure.com/.default`),
   * e.g. `getBearerTokenProvider()` of `@azure/identity`; called once per request, so it should cache.
   * @default undefined
   */
  tokenProvider?: () => Promise<string>
  /**
   * The data-plane API version.
   * @default '2024-10-21'
   */
  apiVersion?: string
  /**
   * Model name → deployment name. Models missing from a non-empty map are refused with
   * CONTINUUM_MODEL_NOT_FOUND.
   * @default {} (the model name is the deployment name)
   */
  deployments?: Record<string, string>
}

/** Capability defaults of an Azure OpenAI resource; override them per deployment. */
export const AZURE_OPENAI_DEFAULT_CAPABILITIES: Readonly<ProviderCapabilities> = Object.freeze({
  models: [],
  contextWindow: 128_000,
  streaming: true,
  tools: true,
  vision: true,
  embeddings: true,
  latencyMs: { p50: 900, p99: 6_000 },
  costPerMillion: { input: 2.5, output: 10 },
  local: false,
  dialects: ['openai-chat'] as const,
  parameters: OPENAI_CHAT_PARAMETERS,
})

/** Creates the Azure OpenAI provider. Throws CONTINUUM_INVALID_OPTIONS naming a bad option. */
export function azureOpenAI(options: AzureOpenAIProviderOptions): InferenceProvider {
  const factory = 'azureOpenAI()'
  const common = resolveCommonOptions(factory, options, 'azure_openai')
  const deployments = resolveDeployments(factory, options.deployments)
  // Without an explicit model list, the mapped model names are what this provider serves.
  const models = common.models.length > 0 ? common.models : [...deployments.keys()]
  const capabilities = mergeCapabilities(
    factory,
    AZURE_OPENAI_DEFAULT_CAPABILITIES,
    models,
    options.capabilities,
  )
  const endpoint = resolveBaseUrl(factory, 'endpoint', options.endpoint)
  const apiVersion = resolveHeaderValue(factory, 'apiVersion', options.apiVersion) ?? '2024-10-21'
  const apiKey = resolveApiKey(factory, options.apiKey, false)
  const tokenProvider = options.tokenProvider
  if (tokenProvider !== undefined && typeof tokenProvider !== 'function') {
    invalidOption(factory, 'tokenProvider must be a function returning a token')
  }
  if ((apiKey === undefined) === (tokenProvider === undefined)) {
    invalidOption(factory, 'exactly one of apiKey and tokenProvider is required')
  }
  const id = common.id
  const baseHeaders: Record<string, string> = { ...common.headers, 'content-type': 'application/json' }
  if (apiKey !== undefined) baseHeaders['api-key'] = apiKey
  const query = `api-version=${encodeURIComponent(apiVersion)}`

  async function headers(): Promise<Record<string, string>> {
    if (tokenProvider === undefined) return baseHeaders
    let token: unknown
    try {
      token = await tokenProvider()
    } catch (error) {
      if (isAbortError(error)) throw error
      throw new ContinuumError(
        'CONTINUUM_PROVIDER_AUTH_FAILED',
        `Provider ${id} could not obtain an access token`,
        {
          cause: error,
          details: { provider: id },
        },
      )
    }
    if (typeof token !== 'string' || token === '' || /[\r\n\0]/.test(token)) {
      throw new ContinuumError(
        'CONTINUUM_PROVIDER_AUTH_FAILED',
        `Provider ${id} got an invalid access token`,
        {
          details: { provider: id },
        },
      )
    }
    return { ...baseHeaders, authorization: `Bearer ${token}` }
  }

  function url(operation: OpenAIOperation, model: string): string {
    const deployment = deployments.size === 0 ? model : deployments.get(model)
    // `encodeURIComponent` leaves dots alone and URL parsing resolves a `.` or `..` segment: a
    // client naming the model `..` would call `/openai/chat/completions`, outside every deployment.
    if (deployment === undefined || deployment === '.' || deployment === '..') {
      throw new ContinuumError(
        'CONTINUUM_MODEL_NOT_FOUND',
        `Provider ${id} has no deployment for the requested model`,
        {
          details: { provider: id },
        },
      )
    }
    // Azure does not declare the Responses dialect, so `responses` is never asked for here.
    const path = { chat: 'chat/completions', embeddings: 'embeddings', responses: 'responses' }[operation]
    return `${endpoint}/openai/deployments/${encodeURIComponent(deployment)}/${path}?${query}`
  }

  const http = new ProviderHttp({
    providerId: id,
    timeoutMs: common.timeoutMs,
    maxResponseBytes: common.maxResponseBytes,
    ...(common.dispatcher === undefined ? {} : { dispatcher: common.dispatcher }),
    ...(common.fetch === undefined ? {} : { fetch: common.fetch }),
  })
  return createOpenAICoreProvider({
    id,
    capabilities,
    dialect: { maxTokensField: 'max_tokens' },
    pool: singleEndpointPool({ http, url }),
    headers,
    health: async (signal) => {
      let probeHeaders: Record<string, string>
      try {
        probeHeaders = await headers()
      } catch (error) {
        if (isAbortError(error)) throw error
        return { status: 'unhealthy', detail: 'CONTINUUM_PROVIDER_AUTH_FAILED' }
      }
      return probeHealth(http, {
        method: 'GET',
        url: `${endpoint}/openai/models?${query}`,
        headers: probeHeaders,
        signal,
      })
    },
    close: () => http.close(),
  })
}

function resolveDeployments(factory: string, value: unknown): Map<string, string> {
  const deployments = new Map<string, string>()
  if (value === undefined) return deployments
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    invalidOption(factory, 'deployments must map model names to deployment names')
  }
  for (const [model, deployment] of Object.entries(value)) {
    if (typeof deployment !== 'string' || !/^[\w.-]{1,128}$/.test(deployment)) {
      invalidOption(factory, `deployments.${model} must be a deployment name (letters, digits, _ . -)`)
    }
    deployments.set(model, deployment)
  }
  return deployments
}
