/**
 * Builds the vLLM provider from router configuration (`type = "vllm"`): `endpoint` is one server,
 * or settings `endpoints` lists several (URL strings or `{ url, socket_path }` tables); `api_key`
 * optional; settings `balancing` (`round_robin` | `least_inflight`) and `unreachable_cooldown_ms`.
 */
import {
  buildFromConfig,
  commonOptionsFromConfig,
  defineProviderType,
  NON_EMPTY_STRING_SETTING,
  numberSetting,
  type ProviderConfig,
  type ProviderFactory,
  settingError,
  stringSetting,
} from '../../../src/provider-kit/index'
import { type VllmEndpointOptions, type VllmProviderOptions, vllm } from './provider'

const vllmProviderFactory: ProviderFactory = (config, context) =>
  buildFromConfig(config, () => {
    const options: VllmProviderOptions = {
      ...commonOptionsFromConfig(config, context),
      endpoints: endpointsSetting(config),
      clock: context.clock,
    }
    if (config.apiKey !== undefined) options.apiKey = config.apiKey
    const balancing = stringSetting(config, 'balancing')
    if (balancing !== undefined) options.balancing = balancing as VllmProviderOptions['balancing'] & string
    const cooldown = numberSetting(config, 'unreachable_cooldown_ms')
    if (cooldown !== undefined) options.unreachableCooldownMs = cooldown
    return vllm(options)
  })

function endpointsSetting(config: ProviderConfig): Array<string | VllmEndpointOptions> {
  const list = config.settings.endpoints
  if (list === undefined) {
    if (config.endpoint === undefined)
      throw settingError(config, 'endpoint', 'is required (or settings endpoints)')
    return [config.endpoint]
  }
  if (config.endpoint !== undefined)
    throw settingError(config, 'endpoints', 'set either endpoint or endpoints, not both')
  if (!Array.isArray(list)) throw settingError(config, 'endpoints', 'must be an array')
  return list.map((entry: unknown, index) => {
    if (typeof entry === 'string') return entry
    if (typeof entry !== 'object' || entry === null || typeof (entry as { url?: unknown }).url !== 'string') {
      throw settingError(config, `endpoints[${index}]`, 'must be a URL or a table with url and socket_path')
    }
    const table = entry as { url: string; socket_path?: unknown }
    if (table.socket_path === undefined) return { url: table.url }
    if (typeof table.socket_path !== 'string') {
      throw settingError(config, `endpoints[${index}].socket_path`, 'must be a string')
    }
    return { url: table.url, socketPath: table.socket_path }
  })
}

/** The `vllm` provider type: `[inference.providers.<id>] type = "vllm"`. */
export const vllmProviderType = defineProviderType({
  type: 'vllm',
  settings: {
    balancing: NON_EMPTY_STRING_SETTING,
  },
  create: vllmProviderFactory,
})
