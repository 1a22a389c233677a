/**
 * Header hygiene between client, proxy and upstream: hop-by-hop headers (RFC 9110 §7.6.1) never
 * cross the proxy, the protocol's own `x-continuum-*` headers stay between client and proxy, a
 * body the proxy rewrites gets its length recomputed rather than copied, and on encrypted
 * exchanges only an allow-list of upstream response headers is relayed at all: headers travel in
 * clear, and an upstream may put anything in them (a debug header echoing the prompt, token
 * counts in rate-limit headers that give away its length).
 */

import { HOP_BY_HOP_HEADERS } from '../internal/hop-by-hop-headers'

/**
 * The upstream response headers relayed on encrypted exchanges: the media type, and the retry
 * hints the official SDKs read (their values are timings, not content). `cache-control` is
 * relayed too, reduced to its standard directives (so the response cache and the client's caches
 * still see `no-store`, and no free text crosses). Everything else is dropped.
 */
export const ENCRYPTED_RELAYED_HEADERS: ReadonlySet<string> = new Set([
  'content-type',
  'retry-after',
  'retry-after-ms',
  'x-should-retry',
  'cache-control',
])

const CACHE_DIRECTIVE =
  /^(?:no-store|no-cache|private|public|must-revalidate|proxy-revalidate|no-transform|immutable|(?:max-age|s-maxage|stale-while-revalidate|stale-if-error)=\d{1,10})$/

/** A cache-control value with only its standard directives (lower case), or undefined when none is left. */
function standardCacheControl(value: string | string[]): string | undefined {
  const text = Array.isArray(value) ? value.join(',') : value
  const kept = text
    .toLowerCase()
    .split(',')
    .map((directive) => directive.trim())
    .filter((directive) => CACHE_DIRECTIVE.test(directive))
  return kept.length === 0 ? undefined : kept.join(', ')
}

/** Keeps only the allow-listed upstream response headers, for an encrypted exchange. */
export function encryptedResponseHeaders(
  headers: Readonly<Record<string, string | string[] | undefined>>,
): Record<string, string | string[] | undefined> {
  const result: Record<string, string | string[] | undefined> = {}
  for (const name of ENCRYPTED_RELAYED_HEADERS) {
    const value = headers[name]
    if (value === undefined) continue
    if (name === 'cache-control') {
      const standard = standardCacheControl(value)
      if (standard !== undefined) result[name] = standard
    } else {
      result[name] = value
    }
  }
  return result
}

/**
 * Never forwarded either way: the hop-by-hop headers, `host`, and `expect`, an expectation for
 * the next hop that the binding's server has already met (it answered `100 Continue`); undici
 * refuses to send it, which made every such request (curl's way with large bodies) a 502.
 */
const HOP_BY_HOP = new Set([...HOP_BY_HOP_HEADERS, 'expect'])

/** Headers for the upstream request. `rewritten` drops length and encoding negotiation of a body the proxy re-serialised. */
export function upstreamRequestHeaders(
  headers: Readonly<Record<string, string | undefined>>,
  rewritten: boolean,
): Record<string, string> {
  const connectionTokens = connectionListed(headers.connection)
  const result: Record<string, string> = {}
  for (const name in headers) {
    const value = headers[name]
    if (
      value === undefined ||
      HOP_BY_HOP.has(name) ||
      connectionTokens.has(name) ||
      name.startsWith('x-continuum-')
    ) {
      continue
    }
    if (rewritten && (name === 'content-length' || name === 'accept-encoding' || name === 'content-encoding'))
      continue
    result[name] = value
  }
  if (rewritten) result['content-type'] = 'application/json'
  return result
}

/**
 * Headers for the client response. `rewritten` drops length and encoding of a body the proxy
 * re-serialised. Repeated values are joined with `, ` (RFC 9110 §5.3), except `set-cookie`,
 * whose values hold commas of their own (`Expires=Wed, 21 Oct ...`) and so stay apart, as Node
 * keeps them. The upstream's CORS headers (`access-control-*`) never cross: the browser's CORS
 * policy is the host app's, set in front of the proxy (docs/browser.md), and an inference
 * server's own (vLLM allows every origin by default) would answer for the origins the host
 * refused, preflights included, and replace the host's `Access-Control-Allow-Origin`.
 */
export function clientResponseHeaders(
  headers: Readonly<Record<string, string | string[] | undefined>>,
  rewritten: boolean,
): Record<string, string | string[]> {
  const connection = headers.connection
  const connectionTokens = connectionListed(Array.isArray(connection) ? connection.join(',') : connection)
  const result: Record<string, string | string[]> = {}
  for (const name in headers) {
    const value = headers[name]
    if (
      value === undefined ||
      HOP_BY_HOP.has(name) ||
      connectionTokens.has(name) ||
      name.startsWith('x-continuum-') ||
      name.startsWith('access-control-')
    ) {
      continue
    }
    if (rewritten && (name === 'content-length' || name === 'content-encoding' || name === 'etag')) continue
    result[name] = Array.isArray(value) && name !== 'set-cookie' ? value.join(', ') : value
  }
  return result
}

/** What a message without a `connection` header lists: nothing (shared, never written to). */
const NONE_LISTED: ReadonlySet<string> = new Set()

/** The values nearly every message carries, parsed once. */
const COMMON_LISTS: ReadonlyMap<string, ReadonlySet<string>> = new Map([
  ['keep-alive', new Set(['keep-alive'])],
  ['close', new Set(['close'])],
])

function connectionListed(value: string | undefined): ReadonlySet<string> {
  if (value === undefined) return NONE_LISTED
  const common = COMMON_LISTS.get(value)
  if (common !== undefined) return common
  return new Set(value.split(',').map((token) => token.trim().toLowerCase()))
}

/** The media type of a content-type header, lower case, without parameters. */
export function mediaType(value: string | string[] | undefined): string {
  const text = Array.isArray(value) ? value[0] : value
  if (text === undefined) return ''
  const semicolon = text.indexOf(';')
  return (semicolon === -1 ? text : text.slice(0, semicolon)).trim().toLowerCase()
}
