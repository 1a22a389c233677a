/**
 * Builds a generic OpenAI-compatible provider from router configuration
 * (`type = "openai_compatible"`): `endpoint` is the base URL (required), `api_key` optional;
 * settings `max_tokens_field` and `health_path`.
 */

import {
  buildFromConfig,
  commonOptionsFromConfig,
  defineProviderType,
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

const text = { type: 'string', minLength: 1, expect: 'a non-empty string' } as const

/** The `openai_compatible` provider type: `[inference.providers.<id>] type = "openai_compatible"`. */
export const openAICompatibleProviderType = defineProviderType({
  type: 'openai_compatible',
  settings: {
    max_tokens_field: text,
    health_path: text,
  },
  create: openAICompatibleProviderFactory,
})
