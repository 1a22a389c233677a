/**
 * Builds the TGI provider from router configuration (`type = "tgi"`): `endpoint` is the server's
 * base URL, `api_key` an optional bearer token, and `settings.mode` `"messages"` (default) or
 * `"generate"`.
 */

import {
  buildFromConfig,
  commonOptionsFromConfig,
  defineProviderType,
  NON_EMPTY_STRING_SETTING,
  type ProviderFactory,
  stringSetting,
} from '../../../src/provider-kit/index'
import { type TgiProviderOptions, tgi } from './provider'

const tgiProviderFactory: ProviderFactory = (config, context) =>
  buildFromConfig(config, () => {
    const options: TgiProviderOptions = commonOptionsFromConfig(config, context)
    if (config.endpoint !== undefined) options.baseURL = config.endpoint
    if (config.apiKey !== undefined) options.apiKey = config.apiKey
    const mode = stringSetting(config, 'mode')
    if (mode !== undefined) options.mode = mode as TgiProviderOptions['mode']
    return tgi(options)
  })

/** The `tgi` provider type: `[inference.providers.<id>] type = "tgi"`. */
export const tgiProviderType = defineProviderType({
  type: 'tgi',
  settings: {
    mode: NON_EMPTY_STRING_SETTING,
  },
  create: tgiProviderFactory,
})
