/** The encrypted response cache: public surface. */
export type { CacheEligibility } from './cache-key'
export { CACHE_RESULT_HEADER, type CachingUpstreamOptions, createCachingUpstream } from './caching-upstream'
export { withResponseCache } from './proxy-cache'
export { ResponseCache } from './response-cache'
export {
  type CacheResult,
  DEFAULT_CACHE_ROUTES,
  defaultScope,
  type ResponseCacheOptions,
} from './response-cache-options'
export type { CachedResponse } from './sealed-entry'
