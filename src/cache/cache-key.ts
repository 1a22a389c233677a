/**
 * Which exchanges the cache may answer, and under which key. An exchange qualifies when its route
 * declares itself cacheable (the adapter's `cache`), the caller did not opt out (`cache-control:
 * no-store` or `no-cache`), and the request does not sample (unless configured). Its key is an
 * HMAC under a server secret of the caller's scope, the field-key identity, the configured scope
 * headers, the method, the route path and query, the headers the protocol says change an
 * answer's shape, and the canonical JSON of the decrypted body: equal questions of the same
 * caller meet, yet the key reveals nothing of the content and cannot be computed without the secret.
 *
 * The field-key identity is the key id and, for key agreement, the client's ephemeral public key:
 * every agreement client shares the server's key id, and only the agreed key (which that public
 * key names, and which only its holder can use, since the request seal verified under it) tells
 * one client from another. It is hashed into the key, never stored.
 */
import { createHmac } from 'node:crypto'
import { HEADERS } from '../cipher/format'
import { canonicalJson } from '../internal/canonical-json'
import type { Exchange } from '../proxy/exchange'
import type { ResolvedResponseCacheOptions } from './response-cache-options'

/** What the cache makes of one exchange. */
export type CacheEligibility =
  /** Not a cacheable route: passed through untouched, not counted. */
  | { kind: 'skip' }
  /** A cacheable route, but this request opted out or samples. */
  | { kind: 'bypass'; route: string }
  | { kind: 'cacheable'; route: string; key: string }

function optedOut(cacheControl: string | undefined): boolean {
  if (cacheControl === undefined) return false
  return cacheControl
    .toLowerCase()
    .split(',')
    .some((directive) => {
      const name = directive.trim()
      return name === 'no-store' || name === 'no-cache'
    })
}

/** Decides whether and under which key an exchange may be served from the cache. */
export function cacheEligibility(
  options: ResolvedResponseCacheOptions,
  exchange: Exchange,
): CacheEligibility {
  const route = exchange.route.route
  if (route.cache === undefined || exchange.request.method !== 'POST') return { kind: 'skip' }
  const name = `${route.adapter}.${route.name}`
  if (options.routes !== undefined && !options.routes.has(name)) return { kind: 'skip' }
  const headers = exchange.request.headers
  if (optedOut(headers['cache-control']) || optedOut(headers.pragma)) return { kind: 'bypass', route: name }
  if (!options.cacheNonDeterministic && route.cache.samples(exchange.body))
    return { kind: 'bypass', route: name }
  let scope: unknown
  try {
    scope = options.scope(exchange)
  } catch {
    options.logger.warn({}, 'cache scope function failed; request not cached')
    return { kind: 'bypass', route: name }
  }
  // Only a string scopes. Anything else would become one string for every caller: an async
  // scope function's Promise is '[object Promise]' whichever tenant it was for.
  if (typeof scope !== 'string') {
    options.logger.warn({ type: typeof scope }, 'cache scope function returned no string; request not cached')
    return { kind: 'bypass', route: name }
  }
  const hmac = createHmac('sha256', options.keySecret)
  // Length-prefixed, so no value can end early and spill into the next; an absent header differs
  // from an empty one.
  const field = (value: string): void => {
    hmac.update(`${Buffer.byteLength(value)}:`)
    hmac.update(value)
  }
  const header = (name: string): string => {
    const value = headers[name]
    return value === undefined ? '' : `=${value}`
  }
  field(scope)
  field(exchange.encrypted ? `${exchange.keyId ?? ''}\0${header(HEADERS.ephemeralKey)}` : '')
  for (const name of options.scopeHeaders) field(header(name))
  field(exchange.request.method)
  field(exchange.route.routePath + exchange.query)
  for (const name of route.varyHeaders) field(header(name))
  let body: string
  try {
    body = canonicalJson(exchange.body)
  } catch {
    // A body without a canonical form (if the serialiser refuses one) is simply not cached.
    return { kind: 'bypass', route: name }
  }
  field(body)
  return { kind: 'cacheable', route: name, key: hmac.digest('hex') }
}
