/**
 * Builds the Anthropic provider from router configuration (`type = "anthropic"`): `endpoint` is
 * the base URL (default `https://api.anthropic.com`), `api_key` the key; settings `api_version`,
 * `betas` (array of names) and `default_max_tokens`.
 */
import {
  buildFromConfig,
  commonOptionsFromConfig,
  defineProviderType,
  NON_EMPTY_STRING_SETTING,
  numberSetting,
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
    const maxTokens = numberSetting(config, 'default_max_tokens')
    if (maxTokens !== undefined) options.defaultMaxTokens = maxTokens
    return anthropic(options)
  })

/** The `anthropic` provider type: `[inference.providers.<id>] type = "anthropic"`. */
export const anthropicProviderType = defineProviderType({
  type: 'anthropic',
  settings: {
    api_version: NON_EMPTY_STRING_SETTING,
  },
  create: anthropicProviderFactory,
})
