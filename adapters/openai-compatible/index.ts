/** Any OpenAI-compatible server: the router's provider client. */

export { openAICompatibleProviderFactory } from './provider/config'
export {
  OPENAI_COMPATIBLE_DEFAULT_CAPABILITIES,
  type OpenAICompatibleProviderOptions,
  openAICompatible,
} from './provider/provider'
