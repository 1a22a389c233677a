/**
 * Builds the Bedrock provider from router configuration (`type = "bedrock"`). Settings:
 * `region` (required), `access_key_id` and `secret_access_key` (required; write them as `env:` or
 * `file:` references), `session_token` (optional), `control_plane_endpoint` (optional). `endpoint`
 * overrides the runtime URL (VPC endpoints, tests).
 */

import {
  buildFromConfig,
  commonOptionsFromConfig,
  defineProviderType,
  NON_EMPTY_STRING_SETTING,
  type ProviderFactory,
  stringSetting,
} from '../../../src/provider-kit/index'
import { type BedrockProviderOptions, bedrock } from './provider'
import type { AwsCredentials } from './signing'

const bedrockProviderFactory: ProviderFactory = (config, context) => {
  const region = stringSetting(config, 'region', true)
  const credentials: AwsCredentials = {
    accessKeyId: stringSetting(config, 'access_key_id', true),
    secretAccessKey: stringSetting(config, 'secret_access_key', true),
  }
  const sessionToken = stringSetting(config, 'session_token')
  if (sessionToken !== undefined) credentials.sessionToken = sessionToken
  const controlPlaneURL = stringSetting(config, 'control_plane_endpoint')
  return buildFromConfig(config, () => {
    const options: BedrockProviderOptions = {
      ...commonOptionsFromConfig(config, context),
      region,
      credentials,
      clock: context.clock,
    }
    if (config.endpoint !== undefined) options.baseURL = config.endpoint
    if (controlPlaneURL !== undefined) options.controlPlaneURL = controlPlaneURL
    return bedrock(options)
  })
}

/** The `bedrock` provider type: `[inference.providers.<id>] type = "bedrock"`. */
export const bedrockProviderType = defineProviderType({
  type: 'bedrock',
  settings: {
    region: NON_EMPTY_STRING_SETTING,
    access_key_id: NON_EMPTY_STRING_SETTING,
    secret_access_key: NON_EMPTY_STRING_SETTING,
    session_token: NON_EMPTY_STRING_SETTING,
    control_plane_endpoint: NON_EMPTY_STRING_SETTING,
  },
  create: bedrockProviderFactory,
})
