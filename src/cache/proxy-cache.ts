/**
 * The proxy's `cache` option: puts a ResponseCache in front of the resolved upstream (a server
 * or the router gateway alike) and, when the proxy has telemetry, counts hits and misses in its
 * `cache_requests_total` metric.
 */
import type { AdapterRegistry } from '../protocol/registry'
import type { Upstream } from '../proxy/upstream'
import type { Telemetry } from '../telemetry/telemetry'
import { createCachingUpstream } from './caching-upstream'
import { ResponseCache } from './response-cache'
import type { ResponseCacheOptions } from './response-cache-options'

/** Wraps `upstream` with the cache the options ask for; unchanged for `undefined` or `false`. */
export function withResponseCache(
  upstream: Upstream,
  option: ResponseCache | ResponseCacheOptions | false | undefined,
  telemetry: Telemetry | undefined,
  defaults: Pick<ResponseCacheOptions, 'clock' | 'logger'> & { adapters: AdapterRegistry },
): Upstream {
  if (option === undefined || option === false) return upstream
  const { adapters, clock, logger } = defaults
  const cache = option instanceof ResponseCache ? option : new ResponseCache({ clock, logger, ...option })
  return createCachingUpstream(upstream, cache, {
    adapters,
    ...(telemetry === undefined
      ? {}
      : {
          onResult: (result) =>
            result === 'bypass' ? undefined : telemetry.recordCacheLookup(result === 'hit'),
        }),
  })
}
