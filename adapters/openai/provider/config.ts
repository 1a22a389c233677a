/**
 * Builds the OpenAI provider from router configuration (`type = "openai"`): `endpoint` is the base
 * URL (default `https://api.openai.com/v1`), `api_key` the key; settings `organization`, `project`.
 */

import {
  buildFromConfig,
  commonOptionsFromConfig,
  stringSetting,
} from '../../../src/provider-kit/provider-config'
import type { ProviderFactory } from '../../../src/router/provider-registry'
import { type OpenAIProviderOptions, openai } from './provider'

/** The `openai` config factory; register it as `registry.register('openai', openaiProviderFactory)`. */
export const openaiProviderFactory: ProviderFactory = (config, context) =>
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
