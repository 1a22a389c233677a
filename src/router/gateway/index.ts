/** The gateway's public surface: the router-backed upstream, the gateway helper and the default provider registry. */
export { createDefaultProviderRegistry } from '../../../adapters/providers'
export { createGateway, type GatewayOptions } from './gateway'
export { createRouterUpstream, type RouterUpstreamOptions } from './router-upstream'
