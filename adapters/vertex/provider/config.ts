/**
 * Builds the Vertex AI provider from router configuration (`type = "vertex"`). Settings:
 * `project` and `location` (required), `health_model` (optional). `api_key` holds an OAuth access
 * token when set; without it Application Default Credentials are used (GOOGLE_APPLICATION_CREDENTIALS,
 * gcloud's login or the metadata server). `endpoint` overrides the API URL.
 */

import {
  buildFromConfig,
  commonOptionsFromConfig,
  defineProviderType,
  NON_EMPTY_STRING_SETTING,
  type ProviderFactory,
  stringSetting,
} from '../../../src/provider-kit/index'
import { type VertexProviderOptions, vertex } from './provider'

const vertexProviderFactory: ProviderFactory = (config, context) => {
  const project = stringSetting(config, 'project', true)
  const location = stringSetting(config, 'location', true)
  const healthModel = stringSetting(config, 'health_model')
  return buildFromConfig(config, () => {
    const options: VertexProviderOptions = { ...commonOptionsFromConfig(config, context), project, location }
    if (config.endpoint !== undefined) options.baseURL = config.endpoint
    if (config.apiKey !== undefined) options.accessToken = config.apiKey
    if (healthModel !== undefined) options.healthModel = healthModel
    return vertex(options)
  })
}

/** The `vertex` provider type: `[inference.providers.<id>] type = "vertex"`. */
export const vertexProviderType = defineProviderType({
  type: 'vertex',
  settings: {
    project: NON_EMPTY_STRING_SETTING,
    location: NON_EMPTY_STRING_SETTING,
    health_model: NON_EMPTY_STRING_SETTING,
  },
  create: vertexProviderFactory,
})
