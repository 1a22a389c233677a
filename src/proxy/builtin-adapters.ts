/** The adapters a proxy serves by default. */

import { anthropicAdapter } from '../../adapters/anthropic/adapter'
import { ollamaAdapter } from '../../adapters/ollama/adapter'
import { openaiAdapter } from '../../adapters/openai/adapter'
import { tgiAdapter } from '../../adapters/tgi/adapter'
import { tritonAdapter } from '../../adapters/triton/adapter'
import type { ProtocolAdapter } from '../adapters/adapter'

/** A fresh list of the built-in protocol adapters. */
export function builtinAdapters(): ProtocolAdapter[] {
  return [openaiAdapter, anthropicAdapter, tritonAdapter, tgiAdapter, ollamaAdapter]
}
