/**
 * Builds the OpenAI provider from router configuration (`type = "openai"`): `endpoint` is the base
 * URL (default `https://api.openai.com/v1`), `api_key` the key; settings `organization`, `project`.
 */

import {
  buildFromConfig,
  commonOptionsFromConfig,
  defineProviderType,
  NON_EMPTY_STRING_SETTING,
  type ProviderFactory,
  stringSetting,
} from '../../../src/provider-kit/index'
import { type OpenAIProviderOptions, openai } from './provider'

const openaiProviderFactory: ProviderFactory = (config, context) =>
  buildFromConfig(config, () => {
    const options: OpenAIProviderOptions = {
      ...commonOptionsFromConfig(config, context),
      apiKey: config.apiKey ?? '',
    }
    if (config.endpoint !== undefined) options.baseURL = config.endpoint
    const organization = stringSetting(config, 'organization')
    if (organization !== undefined) options.organization = organization
    const project = stringSetting(config, 'project')
    if (project !== undefined) options.project = project
    return openai(options)
  })

/** The `openai` provider type: `[inference.providers.<id>] type = "openai"`. */
export const openaiProviderType = defineProviderType({
  type: 'openai',
  settings: {
    organization: NON_EMPTY_STRING_SETTING,
    project: NON_EMPTY_STRING_SETTING,
  },
  create: openaiProviderFactory,
})
