/** The OpenAI protocol: the proxy adapter and the router's provider client. */

export { openaiProviderFactory } from './provider/config'
export { OPENAI_DEFAULT_CAPABILITIES, type OpenAIProviderOptions, openai } from './provider/provider'
export { openaiAdapter } from './proxy/adapter'
