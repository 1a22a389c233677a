/**
 * Builds the TGI provider from router configuration (`type = "tgi"`): `endpoint` is the server's
 * base URL, `api_key` an optional bearer token, and `settings.mode` `"messages"` (default) or
 * `"generate"`.
 */

import {
  buildFromConfig,
  commonOptionsFromConfig,
  stringSetting,
} from '../../../src/provider-kit/provider-config'
import type { ProviderFactory } from '../../../src/router/provider-registry'
import { type TgiProviderOptions, tgi } from './provider'

/** The `tgi` config factory; register it as `registry.register('tgi', tgiProviderFactory)`. */
export const tgiProviderFactory: ProviderFactory = (config, context) =>
  buildFromConfig(config, () => {
    const options: TgiProviderOptions = commonOptionsFromConfig(config, context)
    if (config.endpoint !== undefined) options.baseURL = config.endpoint
    if (config.apiKey !== undefined) options.apiKey = config.apiKey
    const mode = stringSetting(config, 'mode')
    if (mode !== undefined) options.mode = mode as TgiProviderOptions['mode']
    return tgi(options)
  })
