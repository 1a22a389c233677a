/**
 * The response cache as a proxy stage, around the upstream call. A hit answers with the stored
 * plain response (a JSON body, or the stream's events), which the pipeline re-encrypts under the
 * requester's own nonce exactly as it does a live answer. A miss is forwarded and its answer
 * collected while it flows to the client: no added latency, and the entry is stored only when a
 * 2xx answer completed (a stream that reached its protocol's end) within `maxEntryBytes`; an
 * error (by its status, or reported in its body), a cut or an abandoned stream is never stored,
 * nor an answer the upstream marked `cache-control: no-store` or `private`. With a shared store a
 * lookup is one GET (a miss adds one SET, not waited for), and a store that cannot answer makes
 * the exchange a miss. The outcome is left on the exchange's annotations for the metrics and
 * `onResult`. Plain exchanges also get `x-continuum-cache: hit|miss|bypass` and,
 * on a hit, `age`; encrypted exchanges never do: in clear, they would tell an on-path observer
 * that two encrypted prompts were equal.
 */
import { hasBrand } from '../internal/brand'
import type { StreamEvent } from '../protocol/stream-event'
import { CACHE_ANNOTATION } from '../proxy/annotations'
import type { Exchange, ExchangeResponse } from '../proxy/exchange'
import type { Next, ProxyStage } from '../proxy/stage'
import { cacheEligibility } from './cache-key'
import { ResponseCache } from './response-cache'
import type { CacheResult, ResponseCacheOptions } from './response-cache-options'
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

async function* replay(events: readonly StreamEvent[]): AsyncGenerator<StreamEvent> {
  yield* events
}

/** Answers repeated deterministic requests from the encrypted cache (in process, or shared through a store). */
export class CacheStage implements ProxyStage {
  readonly name = 'cache'
  readonly cache: ResponseCache

  /** Takes a ResponseCache (to share or inspect it), or the options to build one. */
  constructor(cache: ResponseCache | ResponseCacheOptions = {}) {
    this.cache = hasBrand(cache, 'ResponseCache')
      ? (cache as ResponseCache)
      : new ResponseCache(cache as ResponseCacheOptions)
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
    result('miss')
    const response = await next()
    return this.#tee(eligibility.key, response)
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

  /** Passes the answer on and stores it once it completed cleanly. */
  #tee(key: string, response: ExchangeResponse): ExchangeResponse {
    if (response.status < 200 || response.status >= 300 || response.failure !== undefined) return response
    if (forbidsStoring(response.headers['cache-control'])) return response
    const { clock, maxEntryBytes } = this.cache.options
    const body = response.body
    const headers = storedHeaders(response.headers)
    if (body.type === 'json') {
      if (reportsFailure(body.value, undefined)) return response
      void this.cache.save(key, { status: response.status, headers, body, storedAt: clock.now() })
      return response
    }
    if (body.type !== 'events') return response
    const cache = this.cache
    const source = body.events
    async function* collect(): AsyncGenerator<StreamEvent> {
      const events: StreamEvent[] = []
      let bytes = 0
      let keep = true
      for await (const event of source) {
        if (keep && reportsFailure(event.data, event.name)) {
          keep = false
          events.length = 0
        }
        if (keep) {
          bytes += JSON.stringify(event.data).length + (event.name?.length ?? 0)
          if (bytes > maxEntryBytes) {
            keep = false
            events.length = 0
          } else {
            events.push(event)
          }
        }
        yield event
      }
      // Reached only when the stream ended normally, which a decoded stream does only once whole.
      // Not awaited: the stream's end must not wait for the store.
      if (keep)
        void cache.save(key, {
          status: response.status,
          headers,
          body: { type: 'events', events },
          storedAt: clock.now(),
        })
    }
    return { ...response, body: { type: 'events', events: collect() } }
  }
}
