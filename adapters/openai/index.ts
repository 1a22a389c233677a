/** The OpenAI protocol: the proxy adapter and the router's provider client. */
export { openaiAdapter } from './adapter'
export { OPENAI_DEFAULT_CAPABILITIES, type OpenAIProviderOptions, openai } from './provider'
export { openaiProviderFactory } from './provider-config'
