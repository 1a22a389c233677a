/**
 * Builds the Ollama provider from router configuration (`type = "ollama"`):
 * `endpoint` is the server's base URL (default `http://127.0.0.1:11434`); no settings keys.
 */

import {
  buildFromConfig,
  commonOptionsFromConfig,
  defineProviderType,
  type ProviderFactory,
} from '../../../src/provider-kit/index'
import { type OllamaProviderOptions, ollama } from './provider'

const ollamaProviderFactory: ProviderFactory = (config, context) =>
  buildFromConfig(config, () => {
    const options: OllamaProviderOptions = commonOptionsFromConfig(config, context)
    if (config.endpoint !== undefined) options.baseURL = config.endpoint
    return ollama(options)
  })

/** The `ollama` provider type: `[inference.providers.<id>] type = "ollama"`. */
export const ollamaProviderType = defineProviderType({ type: 'ollama', create: ollamaProviderFactory })
