/**
 * Builds a generic OpenAI-compatible provider from router configuration
 * (`type = "openai_compatible"`): `endpoint` is the base URL (required), `api_key` optional;
 * settings `max_tokens_field` and `health_path`.
 */

import {
  buildFromConfig,
  commonOptionsFromConfig,
  defineProviderType,
  NON_EMPTY_STRING_SETTING,
  type ProviderFactory,
  stringSetting,
} from '../../../src/provider-kit/index'
import { type OpenAICompatibleProviderOptions, openAICompatible } from './provider'

/**
 * The `openai_compatible` config factory; register it as
 * `registry.register('openai_compatible', openAICompatibleProviderFactory)`.
 */
export const openAICompatibleProviderFactory: ProviderFactory = (config, context) =>
  buildFromConfig(config, () => {
    const options: OpenAICompatibleProviderOptions = {
      ...commonOptionsFromConfig(config, context),
      baseURL: config.endpoint ?? '',
    }
    if (config.apiKey !== undefined) options.apiKey = config.apiKey
    const maxTokensField = stringSetting(config, 'max_tokens_field')
    if (maxTokensField !== undefined) options.maxTokensField = maxTokensField as 'max_tokens'
    const healthPath = stringSetting(config, 'health_path')
    if (healthPath !== undefined) options.healthPath = healthPath
    return openAICompatible(options)
  })

/** The `openai_compatible` provider type: `[inference.providers.<id>] type = "openai_compatible"`. */
export const openAICompatibleProviderType = defineProviderType({
  type: 'openai_compatible',
  settings: {
    max_tokens_field: NON_EMPTY_STRING_SETTING,
    health_path: NON_EMPTY_STRING_SETTING,
  },
  create: openAICompatibleProviderFactory,
})
