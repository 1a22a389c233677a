/** The Anthropic protocol adapter (proxy side). */
export { anthropicAdapter, formatAnthropicStreamError } from './adapter'
