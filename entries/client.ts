/**
 * `continuum-proxy/client`: the encrypting fetch for the official SDKs, with the built-in
 * protocols (OpenAI, Anthropic, Triton, TGI, Ollama) encrypted by default.
 *
 * @example
 * const client = new OpenAI({ baseURL, apiKey, fetch: createEncryptedFetch({ keyId: 'k2026', key }) })
 */
import { builtinAdapters } from '../adapters/index'
import {
  createEncryptedFetch as createCoreEncryptedFetch,
  type EncryptedFetchOptions,
} from '../src/client/index'
import { AdapterRegistry } from '../src/index'

export type { AgreementOptions, SharedKey } from '../src/client/index'
export {
  AdapterRegistry,
  type Clock,
  ContinuumError,
  defineAdapter,
  type ErrorCode,
  type KeyMaterial,
  type ProtocolAdapter,
  type RouteDefinition,
} from '../src/index'
export type { EncryptedFetchOptions }

let defaults: AdapterRegistry | undefined

/**
 * Creates the encrypting fetch. Options are validated now; exactly one of `key` + `keyId`, `keys`
 * or `agreement` is given.
 */
export function createEncryptedFetch(options: EncryptedFetchOptions): typeof fetch {
  defaults ??= new AdapterRegistry(builtinAdapters())
  return createCoreEncryptedFetch({ ...options, adapters: options.adapters ?? defaults })
}
