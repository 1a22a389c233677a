/**
 * The response cache as a proxy stage, around the upstream call. A hit answers with the stored
 * plain response (a JSON body, or the stream's events), which the pipeline re-encrypts under the
 * requester's own nonce exactly as it does a live answer. A miss is forwarded and its answer
 * collected while it flows to the client: no added latency, and the entry is stored only when a
 * 2xx answer completed (a stream that reached its protocol's end) within `maxEntryBytes`; an
 * error (by its status, or reported in its body), a cut or an abandoned stream is never stored,
 * nor an answer the upstream marked `cache-control: no-store` or `private`, or one whose `Vary`
 * names a request header the key does not cover. With a shared store a
 * lookup is one GET (a miss adds one SET, not waited for), and a store that cannot answer makes
 * the exchange a miss. The outcome is left on the exchange's annotations for the metrics and
 * `onResult`. Identical misses in flight together are coalesced (cache-flights.ts): the first
 * goes upstream, the others are served its answer as hits. Plain exchanges also get `x-continuum-cache: hit|miss|bypass` and,
 * on a hit, `age`; encrypted exchanges never do: in clear, they would tell an on-path observer
 * that two encrypted prompts were equal.
 */
import { hasBrand } from '../internal/brand'
import { CREDENTIAL_HEADERS } from '../internal/credential-headers'
import type { StreamEvent } from '../protocol/stream-event'
import { CACHE_ANNOTATION } from '../proxy/annotations'
import type { Exchange, ExchangeResponse } from '../proxy/exchange'
import type { Next, ProxyStage } from '../proxy/stage'
import { CacheFlights, type FlightOutcome } from './cache-flights'
import { cacheEligibility } from './cache-key'
import { ResponseCache } from './response-cache'
import { type CacheResult, defaultScope, type ResponseCacheOptions } from './response-cache-options'
import type { CachedResponse } from './sealed-entry'

/** The response header naming the cache result. */
export const CACHE_RESULT_HEADER = 'x-continuum-cache'

/** Response headers never replayed: per-response or per-connection facts. */
const NOT_STORED = new Set([
  'set-cookie',
  'date',
  'age',
  'connection',
  'keep-alive',
  'transfer-encoding',
  'content-length',
  'x-request-id',
])

function storedHeaders(headers: ExchangeResponse['headers']): Record<string, string> {
  const result: Record<string, string> = {}
  for (const name in headers) {
    const value = headers[name]
    if (value === undefined || NOT_STORED.has(name)) continue
    result[name] = Array.isArray(value) ? value.join(', ') : value
  }
  return result
}

/** Whether the upstream said its answer must not be kept (`no-store`) or shared (`private`). */
function forbidsStoring(value: string | string[] | undefined): boolean {
  if (value === undefined) return false
  const text = (Array.isArray(value) ? value.join(',') : value).toLowerCase()
  return text.split(',').some((directive) => {
    const name = directive.split('=')[0]!.trim()
    return name === 'no-store' || name === 'private'
  })
}

/**
 * Whether a JSON body or a stream event (with its SSE name) reports a failure in-band. A server
 * that fails after the first token can no longer change the 200 it sent, so it says so in the
 * body: Anthropic `event: error` (`{"type":"error",...}`), vLLM an `{"error":{...}}` chunk before
 * `[DONE]`, Ollama an `{"error":"..."}` line, TGI `{"error":"...","error_type":...}`. Adapters
 * count such an event as the stream's end, so the stream ends normally; kept, one transient
 * failure (an overload, an out-of-memory) would be replayed to the whole scope for the TTL. The
 * shape these protocols share is tested rather than a per-adapter hook: no successful answer of a
 * cacheable route has a set `error` member, an `error` type or event name, and a false positive
 * costs only a miss.
 */
function reportsFailure(data: Record<string, unknown>, name: string | undefined): boolean {
  if (name === 'error' || data.type === 'error') return true
  return (
    Object.hasOwn(data, 'error') && data.error !== null && data.error !== undefined && data.error !== false
  )
}

/** Request headers that only change the encoding of the bytes, which the proxy decodes before it keeps an answer. */
const VARY_IGNORED = new Set(['accept-encoding'])

/**
 * Whether the upstream's `Vary` names a request header (or `*`) the cache key does not cover:
 * the answer is then per that header (a RAG service answering from the documents of `x-user-id`)
 * and kept, it would be served to the next caller whatever that caller's value.
 */
function variesBeyondKey(value: string | string[] | undefined, covers: (name: string) => boolean): boolean {
  if (value === undefined) return false
  const text = Array.isArray(value) ? value.join(',') : value
  return text.split(',').some((item) => {
    const name = item.trim().toLowerCase()
    return name !== '' && (name === '*' || (!VARY_IGNORED.has(name) && !covers(name)))
  })
}

async function* replay(events: readonly StreamEvent[]): AsyncGenerator<StreamEvent> {
  yield* events
}

const FAILED: FlightOutcome = { kind: 'failed' }
const UNSHARED: FlightOutcome = { kind: 'unshared' }
const unreported = (): void => undefined

/** Answers repeated deterministic requests from the encrypted cache (in process, or shared through a store). */
export class CacheStage implements ProxyStage {
  readonly name = 'cache'
  readonly cache: ResponseCache
  readonly #flights: CacheFlights | undefined

  /** Takes a ResponseCache (to share or inspect it), or the options to build one. */
  constructor(cache: ResponseCache | ResponseCacheOptions = {}) {
    this.cache = hasBrand(cache, 'ResponseCache')
      ? (cache as ResponseCache)
      : new ResponseCache(cache as ResponseCacheOptions)
    const coalesce = this.cache.options.coalesce
    this.#flights = coalesce === undefined ? undefined : new CacheFlights(coalesce)
  }

  async wrapUpstream(exchange: Exchange, next: Next): Promise<ExchangeResponse> {
    const eligibility = cacheEligibility(this.cache.options, exchange)
    if (eligibility.kind === 'skip') return next()
    const result = (kind: CacheResult) => {
      exchange.annotations[CACHE_ANNOTATION] = kind
      if (!exchange.encrypted) exchange.responseHeaders[CACHE_RESULT_HEADER] = kind
      const listener = this.cache.options.onResult
      if (listener === undefined) return
      try {
        listener(kind, eligibility.route)
      } catch {
        this.cache.options.logger.warn({ result: kind }, 'cache onResult listener failed; ignored')
      }
    }
    if (eligibility.kind === 'bypass') {
      result('bypass')
      return next()
    }
    const cached = await this.cache.lookup(eligibility.key)
    if (cached !== undefined) {
      result('hit')
      return this.#fromCache(exchange, cached)
    }
    const flights = this.#flights
    const turn =
      flights === undefined ? undefined : await flights.take(eligibility.key, exchange.request.signal)
    if (turn?.role === 'served') {
      result('hit')
      return this.#fromCache(exchange, turn.entry)
    }
    result('miss')
    if (turn?.role !== 'lead') return this.#tee(exchange, eligibility.key, await next())
    // Whatever happens to the answer, the waiters hear of it by the exchange's end at the latest.
    exchange.onEnd(() => turn.finish(FAILED))
    let response: ExchangeResponse
    try {
      response = await next()
    } catch (error) {
      turn.finish(FAILED)
      throw error
    }
    return this.#tee(exchange, eligibility.key, response, turn.finish)
  }

  /** Whether every request that meets this one's key carries the same value of header `name`. */
  #covers(exchange: Exchange, name: string): boolean {
    const { scope, scopeHeaders } = this.cache.options
    const route = exchange.route.route
    if (route.varyHeaders.includes(name) || scopeHeaders.includes(name)) return true
    // The default scope digests every credential header; a scope function may not.
    return scope === defaultScope && (route.credentialHeaders.includes(name) || CREDENTIAL_HEADERS.has(name))
  }

  #fromCache(exchange: Exchange, entry: CachedResponse): ExchangeResponse {
    const { clock } = this.cache.options
    if (!exchange.encrypted) {
      exchange.responseHeaders.age = String(Math.max(0, Math.floor((clock.now() - entry.storedAt) / 1000)))
    }
    const body =
      entry.body.type === 'json'
        ? entry.body
        : ({ type: 'events', events: replay(entry.body.events) } as const)
    return { status: entry.status, headers: entry.headers, body }
  }

  /**
   * Passes the answer on and stores it once it completed cleanly; `finish` tells the waiters of
   * its flight what became of it (the answer to share, or why there is none).
   */
  #tee(
    exchange: Exchange,
    key: string,
    response: ExchangeResponse,
    finish: (outcome: FlightOutcome) => void = unreported,
  ): ExchangeResponse {
    if (response.status < 200 || response.status >= 300 || response.failure !== undefined) {
      finish(FAILED)
      return response
    }
    if (
      forbidsStoring(response.headers['cache-control']) ||
      variesBeyondKey(response.headers.vary, (name) => this.#covers(exchange, name))
    ) {
      finish(UNSHARED)
      return response
    }
    const { clock, maxEntryBytes } = this.cache.options
    const body = response.body
    const headers = storedHeaders(response.headers)
    const cache = this.cache
    // The waiters are handed only what the cache keeps: an answer over maxEntryBytes, copied to
    // each of them, would multiply a large answer in memory and serve it as a hit nobody stored.
    const keep = (entry: CachedResponse): void => {
      const writing = cache.store(key, entry)
      finish(writing === undefined ? UNSHARED : { kind: 'answered', entry })
    }
    if (body.type === 'json') {
      if (reportsFailure(body.value, undefined)) {
        finish(FAILED)
        return response
      }
      keep({ status: response.status, headers, body, storedAt: clock.now() })
      return response
    }
    if (body.type !== 'events') {
      finish(UNSHARED)
      return response
    }
    const source = body.events
    async function* collect(): AsyncGenerator<StreamEvent> {
      const events: StreamEvent[] = []
      let bytes = 0
      let dropped: FlightOutcome | undefined
      try {
        for await (const event of source) {
          if (dropped === undefined && reportsFailure(event.data, event.name)) {
            dropped = FAILED
            events.length = 0
          }
          if (dropped === undefined) {
            bytes += JSON.stringify(event.data).length + (event.name?.length ?? 0)
            if (bytes > maxEntryBytes) {
              dropped = UNSHARED
              events.length = 0
            } else {
              events.push(event)
            }
          }
          yield event
        }
        // Reached only when the stream ended normally, which a decoded stream does only once whole.
        // Not awaited: the stream's end must not wait for the store.
        if (dropped !== undefined) {
          finish(dropped)
          return
        }
        keep({ status: response.status, headers, body: { type: 'events', events }, storedAt: clock.now() })
      } finally {
        // A stream cut, failed or abandoned by its reader: nothing to share.
        finish(FAILED)
      }
    }
    return { ...response, body: { type: 'events', events: collect() } }
  }
}
