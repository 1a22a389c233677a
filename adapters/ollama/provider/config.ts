/**
 * Builds the Ollama provider from router configuration (`type = "ollama"`):
 * `endpoint` is the server's base URL (default `http://127.0.0.1:11434`); no settings keys.
 */

import { buildFromConfig, commonOptionsFromConfig } from '../../../src/provider-kit/provider-config'
import type { ProviderFactory } from '../../../src/router/provider-registry'
import { type OllamaProviderOptions, ollama } from './provider'

/** The `ollama` config factory; register it as `registry.register('ollama', ollamaProviderFactory)`. */
export const ollamaProviderFactory: ProviderFactory = (config, context) =>
  buildFromConfig(config, () => {
    const options: OllamaProviderOptions = commonOptionsFromConfig(config, context)
    if (config.endpoint !== undefined) options.baseURL = config.endpoint
    return ollama(options)
  })
