/** Azure OpenAI: the router's provider client (the wire protocol is OpenAI's). */
export { AZURE_OPENAI_DEFAULT_CAPABILITIES, type AzureOpenAIProviderOptions, azureOpenAI } from './provider'
export { azureOpenAIProviderFactory } from './provider-config'
