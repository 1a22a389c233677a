/**
 * The provider registry with every built-in provider type registered, so a router configuration
 * naming any of them builds without wiring factories by hand:
 * `loadRouterConfig(path, { providerFactories: createDefaultProviderRegistry() })`.
 */

import { ProviderRegistry } from '../src/router/provider-registry'
import { anthropicProviderFactory } from './anthropic/provider/config'
import { azureOpenAIProviderFactory } from './azure-openai/provider/config'
import { bedrockProviderFactory } from './bedrock/provider/config'
import { ollamaProviderFactory } from './ollama/provider/config'
import { openaiProviderFactory } from './openai/provider/config'
import { openAICompatibleProviderFactory } from './openai-compatible/provider/config'
import { tgiProviderFactory } from './tgi/provider/config'
import { vertexProviderFactory } from './vertex/provider/config'
import { vllmProviderFactory } from './vllm/provider/config'

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
