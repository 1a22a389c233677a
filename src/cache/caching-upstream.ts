/**
 * The cache in front of an upstream. A hit replays the stored status, headers and body chunks as
 * if the server had answered, so the proxy pipeline re-encrypts them under the new requester's
 * own nonce exactly as it does a live answer (streams event by event). A miss is forwarded and
 * its body teed while it flows to the client: no added latency, and the entry is stored only
 * when a 2xx body completed within `maxEntryBytes`; an error, a cut or an abandoned stream is
 * never stored. Every response on a cacheable route carries `x-continuum-cache: hit|miss|bypass`.
 */

import { builtinAdapters } from '../../adapters/builtin'
import { AdapterRegistry } from '../protocol/registry'
import { mediaType } from '../proxy/headers'
import type { Upstream, UpstreamRequest, UpstreamResponse } from '../proxy/upstream'
import type { ResponseCache } from './response-cache'
import type { CacheResult } from './response-cache-options'
import type { CachedResponse } from './sealed-entry'
import { jsonComplete, streamComplete } from './stream-completeness'

/** The response header naming the cache result. */
export const CACHE_RESULT_HEADER = 'x-continuum-cache'

/** Options of {@link createCachingUpstream}. */
export interface CachingUpstreamOptions {
  /**
   * A second result listener beside the cache's own `onResult` (the proxy wires telemetry here).
   * @default undefined
   */
  onResult?: (result: CacheResult, route: string) => void
  /**
   * The protocols served, whose stream descriptions tell a whole stream from a cut one (only
   * whole ones are stored).
   * @default a registry with the built-in adapters
   */
  adapters?: AdapterRegistry
}

/** Response headers never replayed: per-response or per-connection facts. */
const NOT_STORED = new Set([
  'set-cookie',
  'date',
  'age',
  'connection',
  'keep-alive',
  'transfer-encoding',
  'x-request-id',
  CACHE_RESULT_HEADER,
])

function storedHeaders(headers: UpstreamResponse['headers']): Record<string, string> {
  const result: Record<string, string> = {}
  for (const name in headers) {
    const value = headers[name]
    if (value === undefined || NOT_STORED.has(name)) continue
    result[name] = Array.isArray(value) ? value.join(', ') : value
  }
  return result
}

function withResult(headers: UpstreamResponse['headers'], result: CacheResult): UpstreamResponse['headers'] {
  return { ...headers, [CACHE_RESULT_HEADER]: result }
}

/**
 * Replays a stored body as one chunk: the answer is already complete, and one chunk lets the
 * pipeline re-seal every stream event in a single pass and a single write.
 */
async function* replay(chunks: readonly Buffer[]): AsyncGenerator<Uint8Array> {
  yield chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks)
}

/** Wraps an upstream with a response cache. */
export function createCachingUpstream(
  upstream: Upstream,
  cache: ResponseCache,
  options: CachingUpstreamOptions = {},
): Upstream {
  const { clock, logger, maxEntryBytes } = cache.options
  const registry = options.adapters ?? new AdapterRegistry(builtinAdapters())
  const listeners = [cache.options.onResult, options.onResult].filter((listener) => listener !== undefined)
  const report = (result: CacheResult, route: string) => {
    for (const listener of listeners) {
      try {
        listener(result, route)
      } catch {
        logger.warn('cache onResult listener failed; ignored', { result })
      }
    }
  }

  /** Whether a completed body is a whole answer: a stream that reached its end, or a JSON object. */
  function whole(request: UpstreamRequest, response: UpstreamResponse, chunks: readonly Buffer[]): boolean {
    const type = mediaType(response.headers['content-type'])
    if (type !== 'text/event-stream' && type !== 'application/x-ndjson') return jsonComplete(chunks)
    const queryStart = request.url.indexOf('?')
    const lookup = registry.lookup(
      request.method,
      queryStart === -1 ? request.url : request.url.slice(0, queryStart),
    )
    const stream = lookup.kind === 'match' ? lookup.match.route.stream : undefined
    return stream !== undefined && streamComplete(stream, chunks)
  }

  /** Relays the body and stores it once it completed cleanly. */
  function tee(key: string, request: UpstreamRequest, response: UpstreamResponse): UpstreamResponse['body'] {
    const source = response.body
    const chunks: Buffer[] = []
    let bytes = 0
    let keep = response.status >= 200 && response.status < 300
    async function* relay(): AsyncGenerator<Uint8Array> {
      let completed = false
      try {
        for await (const chunk of source) {
          if (keep) {
            bytes += chunk.byteLength
            if (bytes > maxEntryBytes) {
              keep = false
              chunks.length = 0
            } else {
              chunks.push(Buffer.from(chunk))
            }
          }
          yield chunk
        }
        completed = true
      } finally {
        // Reached only after the last chunk was consumed: a break, a throw or destroy() skips it.
        if (completed && keep && whole(request, response, chunks)) {
          cache.set(key, {
            status: response.status,
            headers: storedHeaders(response.headers),
            chunks,
            storedAt: clock.now(),
          })
        }
      }
    }
    const body = relay()
    return Object.assign(body, {
      destroy(error?: Error) {
        keep = false
        source.destroy?.(error)
        void body.return(undefined)
      },
    })
  }

  function fromCache(entry: CachedResponse): UpstreamResponse {
    const ageSeconds = Math.max(0, Math.floor((clock.now() - entry.storedAt) / 1000))
    return {
      status: entry.status,
      headers: { ...withResult(entry.headers, 'hit'), age: String(ageSeconds) },
      body: replay(entry.chunks),
    }
  }

  return {
    async send(request) {
      const eligibility = cache.eligibility(request)
      if (eligibility.kind === 'skip') return upstream.send(request)
      if (eligibility.kind === 'bypass') {
        report('bypass', eligibility.route)
        const response = await upstream.send(request)
        return { ...response, headers: withResult(response.headers, 'bypass') }
      }
      const cached = cache.get(eligibility.key)
      if (cached !== undefined) {
        report('hit', eligibility.route)
        return fromCache(cached)
      }
      report('miss', eligibility.route)
      const response = await upstream.send(request)
      return {
        status: response.status,
        headers: withResult(response.headers, 'miss'),
        body: tee(eligibility.key, request, response),
      }
    },
    close: () => upstream.close(),
  }
}
