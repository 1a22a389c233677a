/**
 * The proxy every binding runs: the core's `createProxy` with the built-in protocols when the
 * options name none. One place, so Express, Koa, Fastify and node:http agree on the defaults.
 */
import { builtinAdapters } from '../adapters/index'
import { type ContinuumProxy, createProxy, type ProxyOptions } from '../src/index'

/** Creates the proxy of a binding. Options are validated now. */
export function createBoundProxy(options: ProxyOptions): ContinuumProxy {
  if (typeof options !== 'object' || options === null) return createProxy(options)
  return createProxy({ ...options, adapters: options.adapters ?? builtinAdapters() })
}
