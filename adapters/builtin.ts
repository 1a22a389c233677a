/** The adapters a proxy serves by default. */

import type { ProtocolAdapter } from '../src/protocol/adapter'
import { anthropicAdapter } from './anthropic/proxy/adapter'
import { ollamaAdapter } from './ollama/proxy/adapter'
import { openaiAdapter } from './openai/proxy/adapter'
import { tgiAdapter } from './tgi/proxy/adapter'
import { tritonAdapter } from './triton/proxy/adapter'

/** A fresh list of the built-in protocol adapters. */
export function builtinAdapters(): ProtocolAdapter[] {
  return [openaiAdapter, anthropicAdapter, tritonAdapter, tgiAdapter, ollamaAdapter]
}
