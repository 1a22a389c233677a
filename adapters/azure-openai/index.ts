/** Azure OpenAI: the router's provider client (the wire protocol is OpenAI's). */

export { azureOpenAIProviderFactory } from './provider/config'
export {
  AZURE_OPENAI_DEFAULT_CAPABILITIES,
  type AzureOpenAIProviderOptions,
  azureOpenAI,
} from './provider/provider'
