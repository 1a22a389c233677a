/** The Anthropic protocol: the proxy adapter and the router's provider client. */

export { anthropicProviderFactory } from './provider/config'
export { ANTHROPIC_DEFAULT_CAPABILITIES, type AnthropicProviderOptions, anthropic } from './provider/provider'
export { anthropicAdapter, formatAnthropicStreamError } from './proxy/adapter'
