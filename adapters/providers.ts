/**
 * `continuum-proxy/providers`: the router's built-in provider clients (OpenAI, Azure OpenAI,
 * Anthropic, Bedrock, Vertex AI, vLLM, TGI, Ollama, any OpenAI-compatible server), their provider
 * types for configuration files, and the registry holding all of them. Google, AWS and similar SDKs
 * are loaded only when a provider that needs them is built.
 */
import { ProviderRegistry, type ProviderTypeDefinition } from '../src/router/index'
import { anthropicProviderType } from './anthropic/provider/config'
import { azureOpenAIProviderType } from './azure-openai/provider/config'
import { bedrockProviderType } from './bedrock/provider/config'
import { ollamaProviderType } from './ollama/provider/config'
import { openaiProviderType } from './openai/provider/config'
import { openAICompatibleProviderType } from './openai-compatible/provider/config'
import { tgiProviderType } from './tgi/provider/config'
import { vertexProviderType } from './vertex/provider/config'
import { vllmProviderType } from './vllm/provider/config'

export {
  ANTHROPIC_DEFAULT_CAPABILITIES,
  type AnthropicProviderOptions,
  anthropic,
} from './anthropic/provider/provider'
export {
  AZURE_OPENAI_DEFAULT_CAPABILITIES,
  type AzureOpenAIProviderOptions,
  azureOpenAI,
} from './azure-openai/provider/provider'
export { type BedrockProviderOptions, bedrock } from './bedrock/provider/provider'
export type { AwsCredentials, AwsCredentialsSource } from './bedrock/provider/signing'
export { type OllamaProviderOptions, ollama } from './ollama/provider/provider'
export { OPENAI_DEFAULT_CAPABILITIES, type OpenAIProviderOptions, openai } from './openai/provider/provider'
export {
  OPENAI_COMPATIBLE_DEFAULT_CAPABILITIES,
  type OpenAICompatibleProviderOptions,
  openAICompatible,
} from './openai-compatible/provider/provider'
export { type TgiProviderOptions, tgi } from './tgi/provider/provider'
export type { VertexAccessToken } from './vertex/provider/auth'
export { type VertexProviderOptions, vertex } from './vertex/provider/provider'
export {
  VLLM_DEFAULT_CAPABILITIES,
  type VllmEndpointOptions,
  type VllmProviderOptions,
  vllm,
} from './vllm/provider/provider'
export {
  anthropicProviderType,
  azureOpenAIProviderType,
  bedrockProviderType,
  ollamaProviderType,
  openAICompatibleProviderType,
  openaiProviderType,
  tgiProviderType,
  vertexProviderType,
  vllmProviderType,
}

/** A fresh list of every built-in provider type. */
export function builtinProviderTypes(): ProviderTypeDefinition[] {
  return [
    openaiProviderType,
    azureOpenAIProviderType,
    anthropicProviderType,
    bedrockProviderType,
    vertexProviderType,
    vllmProviderType,
    tgiProviderType,
    ollamaProviderType,
    openAICompatibleProviderType,
  ]
}

/**
 * A fresh registry of every built-in provider type. Each call returns a new registry, so an app
 * may `register()` its own type over a built-in one without affecting others.
 */
export function createDefaultProviderRegistry(): ProviderRegistry {
  return new ProviderRegistry(builtinProviderTypes())
}
