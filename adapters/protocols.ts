/**
 * The built-in protocols by the names the bindings' `adapters` option takes: OpenAI and Anthropic
 * (the bindings' defaults) ready, TGI, Triton and Ollama deferred, registered by their routes and
 * loaded on the first request one of those serves. Apart from index.ts, which imports every
 * adapter for its exports, so a binding that does not serve a deferred protocol never loads it.
 */
import type { DeferredAdapter, ProtocolAdapter } from '../src/index'
import { anthropicAdapter } from './anthropic/proxy/adapter'
import { deferredOllamaAdapter } from './ollama/proxy/deferred'
import { openaiAdapter } from './openai/proxy/adapter'
import { deferredTgiAdapter } from './tgi/proxy/deferred'
import { deferredTritonAdapter } from './triton/proxy/deferred'

/** A fresh list of every built-in protocol, as the bindings register them. */
export function builtinProtocols(): (ProtocolAdapter | DeferredAdapter)[] {
  return [openaiAdapter, anthropicAdapter, deferredTritonAdapter, deferredTgiAdapter, deferredOllamaAdapter]
}
