/**
 * The proxy every binding runs: the core's `createProxy`, with the protocols named in `adapters`
 * resolved to the built-in adapters. One place, so Express, Koa, Fastify and the standalone
 * server agree on the defaults. By default only OpenAI and Anthropic claim routes: TGI, Ollama and
 * Triton serve paths a host app often has itself (`/health`, `/info`, `/metrics`, `/api/tags`),
 * so they are opt-in (`adapters: ['openai', 'anthropic', 'tgi']`), and deferred: registered by
 * their routes, their definitions loaded on the first request one of those serves.
 */
import { builtinProtocols } from '../adapters/protocols'
import {
  type AdapterRegistry,
  ContinuumError,
  type ContinuumProxy,
  createProxy,
  type DeferredAdapter,
  type ProtocolAdapter,
  type ProxyOptions,
} from '../src/adapter-kit/index'

/** The built-in protocols, by the names the `adapters` option takes. */
export type BuiltinProtocol = 'openai' | 'anthropic' | 'tgi' | 'ollama' | 'triton'

/** The protocols a binding serves when `adapters` is not given. */
export const DEFAULT_PROTOCOLS: readonly BuiltinProtocol[] = Object.freeze(['openai', 'anthropic'])

/** Options of the Express, Koa and Fastify bindings: the proxy options, with protocols by name. */
export interface ContinuumOptions extends Omit<ProxyOptions, 'adapters'> {
  /**
   * The protocols served, the only ones that claim routes: built-in names (`'openai'`,
   * `'anthropic'`, `'tgi'`, `'ollama'`, `'triton'`), your own adapters from `defineAdapter()`,
   * both mixed (or deferred ones from `deferAdapter()`), or an AdapterRegistry. TGI and Ollama serve `/health`, `/info`, `/metrics` and
   * `/api/...` paths: enable them when those belong to the inference server, or mount the proxy
   * under a prefix.
   * @default ['openai', 'anthropic']
   */
  adapters?: AdapterRegistry | readonly (BuiltinProtocol | ProtocolAdapter | DeferredAdapter)[]
}

/** Resolves built-in names in an `adapters` list; throws CONTINUUM_INVALID_OPTIONS naming an unknown one. */
export function resolveAdapters(
  adapters: ContinuumOptions['adapters'],
): AdapterRegistry | readonly (ProtocolAdapter | DeferredAdapter)[] {
  const list = adapters ?? DEFAULT_PROTOCOLS
  if (!Array.isArray(list)) return list as AdapterRegistry
  const builtins = new Map(builtinProtocols().map((adapter) => [adapter.name, adapter]))
  return list.map((entry: BuiltinProtocol | ProtocolAdapter | DeferredAdapter) => {
    if (typeof entry !== 'string') return entry
    const adapter = builtins.get(entry)
    if (adapter === undefined) {
      throw new ContinuumError(
        'CONTINUUM_INVALID_OPTIONS',
        `continuum-proxy: adapters: "${entry}" is not a built-in protocol; use one of ${[...builtins.keys()].join(', ')}, or an adapter from defineAdapter()`,
      )
    }
    return adapter
  })
}

/** Creates the proxy of a binding. Options are validated now. */
export function createBoundProxy(options: ContinuumOptions): ContinuumProxy {
  if (typeof options !== 'object' || options === null) return createProxy(options as ProxyOptions)
  return createProxy({ ...options, adapters: resolveAdapters(options.adapters) })
}
