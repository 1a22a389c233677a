/**
 * `continuum-proxy/adapters`: the built-in protocol adapters (the proxy side of each protocol, with
 * its gateway codecs loaded on demand) and the default set the middleware serves. Provider clients
 * for the router are in `continuum-proxy/providers`.
 */
import type { ProtocolAdapter } from '../src/index'
import { anthropicAdapter } from './anthropic/proxy/adapter'
import { ollamaAdapter } from './ollama/proxy/adapter'
import { openaiAdapter } from './openai/proxy/adapter'
import { tgiAdapter } from './tgi/proxy/adapter'
import { tritonAdapter } from './triton/proxy/adapter'

export { anthropicStreamError } from './anthropic/proxy/adapter'
export { anthropicAdapter, ollamaAdapter, openaiAdapter, tgiAdapter, tritonAdapter }

/** A fresh list of every built-in protocol adapter. */
export function builtinAdapters(): ProtocolAdapter[] {
  return [openaiAdapter, anthropicAdapter, tritonAdapter, tgiAdapter, ollamaAdapter]
}
