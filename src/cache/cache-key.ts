/**
 * Which requests the cache may answer, and under which key. A request qualifies when it is a
 * POST with a JSON object body on a cacheable route, the caller did not opt out
 * (`cache-control: no-store` or `no-cache`), and it does not sample (unless configured). Its key
 * is an HMAC under a server secret of the caller's scope, the method, the URL, the few headers
 * that change the answer's format, and the canonical JSON of the decrypted body: equal questions
 * meet, yet the key reveals nothing of the content and cannot be computed without the secret.
 */
import { createHmac } from 'node:crypto'
import { canonicalJson } from '../internal/canonical-json'
import type { UpstreamRequest } from '../proxy/upstream'
import type { ResolvedResponseCacheOptions } from './response-cache-options'

/** What the cache makes of one request. */
export type CacheEligibility =
  /** Not a cacheable route: passed through untouched, not counted. */
  | { kind: 'skip' }
  /** A cacheable route, but this request opted out or samples. */
  | { kind: 'bypass'; route: string }
  | { kind: 'cacheable'; route: string; key: string }

/** Request headers that change the shape of the answer, so they are part of the key. */
const VARY_HEADERS = ['anthropic-version', 'anthropic-beta', 'openai-beta'] as const

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

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

/** True when the request asks the model to sample: OpenAI/Anthropic `temperature`, Ollama `options.temperature`, TGI `parameters`. */
export function samples(body: Record<string, unknown>): boolean {
  for (const place of [body, body.options, body.parameters]) {
    if (!isRecord(place)) continue
    const temperature = place.temperature
    if (temperature !== undefined && temperature !== null && temperature !== 0) return true
  }
  return isRecord(body.parameters) && body.parameters.do_sample === true
}

function parseBody(body: UpstreamRequest['body']): Record<string, unknown> | undefined {
  let text: string
  if (typeof body === 'string') text = body
  else if (body instanceof Uint8Array)
    text = Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString('utf8')
  else return undefined
  try {
    const parsed: unknown = JSON.parse(text)
    return isRecord(parsed) ? parsed : undefined
  } catch {
    return undefined
  }
}

/** Decides whether and under which key a request may be served from the cache. */
export function cacheEligibility(
  options: ResolvedResponseCacheOptions,
  request: UpstreamRequest,
): CacheEligibility {
  if (request.method !== 'POST') return { kind: 'skip' }
  const queryStart = request.url.indexOf('?')
  const path = queryStart === -1 ? request.url : request.url.slice(0, queryStart)
  const route = options.routeOf(path)
  if (route === undefined) return { kind: 'skip' }
  if (optedOut(request.headers['cache-control']) || optedOut(request.headers.pragma)) {
    return { kind: 'bypass', route }
  }
  const body = parseBody(request.body)
  if (body === undefined) return { kind: 'bypass', route }
  if (!options.cacheNonDeterministic && samples(body)) return { kind: 'bypass', route }
  let scope: string
  try {
    scope = options.scope(request.headers)
  } catch {
    options.logger.warn('cache scope function failed; request not cached')
    return { kind: 'bypass', route }
  }
  const hmac = createHmac('sha256', options.keySecret)
  hmac.update(String(scope))
  hmac.update('\0')
  hmac.update(request.method)
  hmac.update(request.url)
  for (const name of VARY_HEADERS) {
    hmac.update('\0')
    hmac.update(request.headers[name] ?? '')
  }
  hmac.update('\0')
  hmac.update(canonicalJson(body))
  return { kind: 'cacheable', route, key: hmac.digest('hex') }
}
