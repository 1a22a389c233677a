/**
 * `createGateway()`: the proxy pipeline in front of an InferenceRouter, in one call. OpenAI-format
 * clients (`/v1/chat/completions`, `/v1/embeddings`, `/v1/models`) and Anthropic-format clients
 * (`/v1/messages`) reach whatever providers the router picks, with field encryption, stages and
 * stream sealing exactly as in front of a single inference server.
 */
import { ContinuumError } from '../../errors'
import { type ContinuumProxy, createProxy } from '../../proxy/proxy'
import type { ProxyOptions } from '../../proxy/proxy-options'
import type { InferenceRouter } from '../inference-router'
import { createRouterUpstream, type RouterUpstreamOptions } from './router-upstream'

/** Options of {@link createGateway}: the proxy's options with a router in place of the upstream. */
export interface GatewayOptions extends Omit<ProxyOptions, 'upstream' | 'router'> {
  /** The router that answers every request. */
  router: InferenceRouter
  /**
   * How requests are turned into router calls: caller id and classification headers, whether
   * closing the gateway closes the router.
   * @default {}
   */
  gateway?: RouterUpstreamOptions
}

/**
 * Builds the gateway. Its `handle` is a CoreHandler; mount it with the Express, Koa or Fastify
 * binding's `continuum({ router, keys })`, or call it directly.
 *
 * @example
 * const gateway = createGateway({ router, keys: { keys: [{ id: 'k1', key }] } })
 * const response = await gateway.handle(coreRequest)
 */
export function createGateway(options: GatewayOptions): ContinuumProxy {
  if (typeof options !== 'object' || options === null || options.router === undefined) {
    throw new ContinuumError('CONTINUUM_INVALID_OPTIONS', 'createGateway: router is required')
  }
  if ((options as ProxyOptions).upstream !== undefined) {
    throw new ContinuumError('CONTINUUM_INVALID_OPTIONS', 'createGateway: give a router, not an upstream')
  }
  const { router, gateway, ...proxyOptions } = options
  return createProxy({ ...proxyOptions, upstream: createRouterUpstream(router, gateway) })
}
