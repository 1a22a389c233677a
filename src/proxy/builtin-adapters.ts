/** The adapters a proxy serves by default. */

import { openaiAdapter } from '../../adapters/openai/adapter'
import type { ProtocolAdapter } from '../adapters/adapter'

/** A fresh list of the built-in protocol adapters. */
export function builtinAdapters(): ProtocolAdapter[] {
  return [openaiAdapter]
}
