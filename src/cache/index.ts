/** `continuum-proxy/cache`: the encrypted response cache and the stage that puts it in front of the upstream. */
export type { CacheEligibility } from './cache-key'
export { CACHE_RESULT_HEADER, CacheStage } from './cache-stage'
export { ResponseCache } from './response-cache'
export { type CacheResult, defaultScope, type ResponseCacheOptions } from './response-cache-options'
export type { CachedResponse } from './sealed-entry'
