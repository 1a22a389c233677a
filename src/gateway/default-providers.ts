/**
 * The provider registry with every built-in provider type registered, so a router configuration
 * naming any of them builds without wiring factories by hand:
 * `loadRouterConfig(path, { providerFactories: createDefaultProviderRegistry() })`.
 */
import { anthropicProviderFactory } from '../../adapters/anthropic/provider-config'
import { azureOpenAIProviderFactory } from '../../adapters/azure-openai/provider-config'
import { bedrockProviderFactory } from '../../adapters/bedrock/provider-config'
import { ollamaProviderFactory } from '../../adapters/ollama/provider-config'
import { openaiProviderFactory } from '../../adapters/openai/provider-config'
import { openAICompatibleProviderFactory } from '../../adapters/openai-compatible/provider-config'
import { tgiProviderFactory } from '../../adapters/tgi/provider-config'
import { vertexProviderFactory } from '../../adapters/vertex/provider-config'
import { vllmProviderFactory } from '../../adapters/vllm/provider-config'
import { ProviderRegistry } from '../router/provider-registry'

/**
 * A fresh registry with the factories of every type in PROVIDER_TYPES. Each call returns a new
 * registry, so an app may `register()` its own factory over a built-in one without affecting others.
 */
export function createDefaultProviderRegistry(): ProviderRegistry {
  return new ProviderRegistry({
    openai: openaiProviderFactory,
    azure_openai: azureOpenAIProviderFactory,
    anthropic: anthropicProviderFactory,
    bedrock: bedrockProviderFactory,
    vertex: vertexProviderFactory,
    vllm: vllmProviderFactory,
    tgi: tgiProviderFactory,
    ollama: ollamaProviderFactory,
    openai_compatible: openAICompatibleProviderFactory,
  })
}
