/** The Anthropic protocol: the proxy adapter and the router's provider client. */
export { anthropicAdapter, formatAnthropicStreamError } from './adapter'
export { ANTHROPIC_DEFAULT_CAPABILITIES, type AnthropicProviderOptions, anthropic } from './provider'
export { anthropicProviderFactory } from './provider-config'
