/**
 * Builds the Anthropic provider from router configuration (`type = "anthropic"`): `endpoint` is
 * the base URL (default `https://api.anthropic.com`), `api_key` the key; settings `api_version`,
 * `betas` (array of names) and `default_max_tokens`.
 */
import {
  buildFromConfig,
  commonOptionsFromConfig,
  defineProviderType,
  type ProviderFactory,
  settingError,
  stringSetting,
} from '../../../src/provider-kit/index'
import { type AnthropicProviderOptions, anthropic } from './provider'

const anthropicProviderFactory: ProviderFactory = (config, context) =>
  buildFromConfig(config, () => {
    const options: AnthropicProviderOptions = {
      ...commonOptionsFromConfig(config, context),
      apiKey: config.apiKey ?? '',
    }
    if (config.endpoint !== undefined) options.baseURL = config.endpoint
    const apiVersion = stringSetting(config, 'api_version')
    if (apiVersion !== undefined) options.apiVersion = apiVersion
    const betas = config.settings.betas
    if (betas !== undefined) {
      if (!Array.isArray(betas)) throw settingError(config, 'betas', 'must be an array of beta names')
      options.betas = betas as string[]
    }
    const maxTokens = config.settings.default_max_tokens
    if (maxTokens !== undefined) {
      if (typeof maxTokens !== 'number') throw settingError(config, 'default_max_tokens', 'must be a number')
      options.defaultMaxTokens = maxTokens
    }
    return anthropic(options)
  })

const text = { type: 'string', minLength: 1, expect: 'a non-empty string' } as const

/** The `anthropic` provider type: `[inference.providers.<id>] type = "anthropic"`. */
export const anthropicProviderType = defineProviderType({
  type: 'anthropic',
  settings: {
    api_version: text,
  },
  create: anthropicProviderFactory,
})
