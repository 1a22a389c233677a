/**
 * Builds the Vertex AI provider from router configuration (`type = "vertex"`). Settings:
 * `project` and `location` (required), `health_model` (optional). `api_key` holds an OAuth access
 * token when set; without it Application Default Credentials are used (GOOGLE_APPLICATION_CREDENTIALS,
 * gcloud's login or the metadata server). `endpoint` overrides the API URL.
 */

import {
  buildFromConfig,
  commonOptionsFromConfig,
  stringSetting,
} from '../../../src/provider-kit/provider-config'
import type { ProviderFactory } from '../../../src/router/provider-registry'
import { type VertexProviderOptions, vertex } from './provider'

/** The `vertex` config factory; register it as `registry.register('vertex', vertexProviderFactory)`. */
export const vertexProviderFactory: ProviderFactory = (config, context) => {
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
