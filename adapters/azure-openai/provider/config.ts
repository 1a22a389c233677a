/**
 * Builds the Azure OpenAI provider from router configuration (`type = "azure_openai"`): `endpoint`
 * is the resource URL, `api_key` the resource key; settings `api_version`, and `deployment` (one
 * deployment for every configured model) or `deployments` (a model → deployment table).
 */

import {
  buildFromConfig,
  commonOptionsFromConfig,
  defineProviderType,
  NON_EMPTY_STRING_SETTING,
  type ProviderConfig,
  type ProviderFactory,
  settingError,
  stringSetting,
} from '../../../src/provider-kit/index'
import { type AzureOpenAIProviderOptions, azureOpenAI } from './provider'

const azureOpenAIProviderFactory: ProviderFactory = (config, context) =>
  buildFromConfig(config, () => {
    const options: AzureOpenAIProviderOptions = {
      ...commonOptionsFromConfig(config, context),
      endpoint: config.endpoint ?? '',
    }
    if (config.apiKey !== undefined) options.apiKey = config.apiKey
    const apiVersion = stringSetting(config, 'api_version')
    if (apiVersion !== undefined) options.apiVersion = apiVersion
    const deployments = deploymentsSetting(config)
    if (deployments !== undefined) options.deployments = deployments
    return azureOpenAI(options)
  })

function deploymentsSetting(config: ProviderConfig): Record<string, string> | undefined {
  const single = stringSetting(config, 'deployment')
  const table = config.settings.deployments
  if (single !== undefined && table !== undefined) {
    throw settingError(config, 'deployments', 'set either deployment or deployments, not both')
  }
  if (single !== undefined) {
    if (config.models.length === 0)
      throw settingError(config, 'models', 'must list the models the deployment serves')
    return Object.fromEntries(config.models.map((model) => [model, single]))
  }
  if (table === undefined) return undefined
  if (typeof table !== 'object' || table === null || Array.isArray(table)) {
    throw settingError(config, 'deployments', 'must be a table of model = "deployment"')
  }
  return table as Record<string, string>
}

/** The `azure_openai` provider type: `[inference.providers.<id>] type = "azure_openai"`. */
export const azureOpenAIProviderType = defineProviderType({
  type: 'azure_openai',
  settings: {
    api_version: NON_EMPTY_STRING_SETTING,
    deployment: NON_EMPTY_STRING_SETTING,
  },
  create: azureOpenAIProviderFactory,
})
