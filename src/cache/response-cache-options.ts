/**
 * Options of the encrypted response cache, validated and normalised once: the server secret is
 * split into two independent keys (one for cache keys, one for entries at rest), the route list is
 * compiled, and the byte bounds are checked against each other, so a lookup only reads
 * precomputed values.
 */
import { createHash, hkdfSync, randomBytes } from 'node:crypto'
import { decodeKeyMaterial, type KeyMaterial } from '../cipher/field-key'
import { type Clock, systemClock } from '../core/clock'
import { type Logger, silentLogger } from '../core/logger'
import { ContinuumError } from '../errors'

/** What a lookup found: served from the cache, forwarded and possibly stored, or not eligible. */
export type CacheResult = 'hit' | 'miss' | 'bypass'

/** Options of {@link ResponseCache}. */
export interface ResponseCacheOptions {
  /**
   * Server-side secret, 32 bytes (raw, hex or base64): keys the cache-key HMAC and the at-rest
   * encryption. Give a fixed secret only to share nothing across restarts: entries live in memory.
   * @default 32 random bytes per process (entries then die with the process, which is the point)
   */
  secret?: KeyMaterial
  /**
   * How long an entry is served, in milliseconds.
   * @default 300000 (5 minutes)
   */
  ttlMs?: number
  /**
   * Upper bound of all stored entries together, in bytes (ciphertext plus key); least recently
   * used entries are evicted first.
   * @default 67108864 (64 MiB)
   */
  maxBytes?: number
  /**
   * Largest response stored, in bytes; a larger one is relayed and not cached.
   * @default 4194304 (4 MiB)
   */
  maxEntryBytes?: number
  /**
   * The caller's scope: entries are shared only between requests of equal scope. Receives the
   * headers forwarded upstream (the proxy's own `x-continuum-*` headers are already gone).
   * @default SHA-256 of the `authorization` header, or `'anonymous'` without one
   */
  scope?: (headers: Readonly<Record<string, string>>) => string
  /**
   * Cacheable routes, as path suffixes matched against the forwarded path (without the query).
   * @default OpenAI chat/completions, completions, embeddings; Anthropic messages; Ollama chat,
   * generate, embed, embeddings; TGI generate and generate_stream
   */
  routes?: readonly string[]
  /**
   * Also cache requests that sample (`temperature` above 0, or TGI `do_sample`); their answers
   * are then replayed instead of drawn again.
   * @default false
   */
  cacheNonDeterministic?: boolean
  /**
   * Called once per request on a cacheable route with its result, e.g. to count hits and misses.
   * A throwing callback is ignored.
   * @default undefined
   */
  onResult?: (result: CacheResult, route: string) => void
  /**
   * Time source of the TTL.
   * @default systemClock
   */
  clock?: Clock
  /**
   * Receives content-free operational messages (an entry that failed to decrypt).
   * @default silentLogger
   */
  logger?: Logger
}

/** The default cacheable routes. */
export const DEFAULT_CACHE_ROUTES: readonly string[] = [
  '/v1/chat/completions',
  '/v1/completions',
  '/v1/embeddings',
  '/v1/messages',
  '/api/chat',
  '/api/generate',
  '/api/embed',
  '/api/embeddings',
  '/generate',
  '/generate_stream',
]

/** Options after normalisation. */
export interface ResolvedResponseCacheOptions {
  /** HMAC key of cache keys. */
  readonly keySecret: Buffer
  /** Input key material of the per-entry encryption keys. */
  readonly entrySecret: Buffer
  readonly ttlMs: number
  readonly maxBytes: number
  readonly maxEntryBytes: number
  readonly scope: (headers: Readonly<Record<string, string>>) => string
  /** The route suffix a path matches, if any. */
  readonly routeOf: (path: string) => string | undefined
  readonly cacheNonDeterministic: boolean
  readonly onResult: ((result: CacheResult, route: string) => void) | undefined
  readonly clock: Clock
  readonly logger: Logger
}

function invalid(message: string): ContinuumError {
  return new ContinuumError('CONTINUUM_INVALID_OPTIONS', `cache.${message}`)
}

function positiveInteger(value: number | undefined, fallback: number, name: string): number {
  const resolved = value ?? fallback
  if (!Number.isSafeInteger(resolved) || resolved <= 0) throw invalid(`${name} must be a positive integer`)
  return resolved
}

/** The default scope: a digest of the caller's credentials, never the credentials themselves. */
export function defaultScope(headers: Readonly<Record<string, string>>): string {
  const authorization = headers.authorization
  if (authorization === undefined || authorization === '') return 'anonymous'
  return createHash('sha256').update(authorization).digest('hex')
}

function routeMatcher(routes: readonly string[]): (path: string) => string | undefined {
  // Longest suffix first, so `/api/generate` wins over `/generate`.
  const sorted = [...routes].sort((left, right) => right.length - left.length)
  return (path) => sorted.find((route) => path === route || path.endsWith(route))
}

/** Validates and normalises cache options. */
export function resolveResponseCacheOptions(
  options: ResponseCacheOptions = {},
): ResolvedResponseCacheOptions {
  if (typeof options !== 'object' || options === null) throw invalid('options must be an object')
  const secret =
    options.secret === undefined ? randomBytes(32) : decodeKeyMaterial(options.secret, 'cache.secret')
  const derive = (info: string) => Buffer.from(hkdfSync('sha256', secret, Buffer.alloc(0), info, 32))
  const ttlMs = positiveInteger(options.ttlMs, 300_000, 'ttlMs')
  const maxBytes = positiveInteger(options.maxBytes, 64 * 1024 * 1024, 'maxBytes')
  const maxEntryBytes = positiveInteger(options.maxEntryBytes, 4 * 1024 * 1024, 'maxEntryBytes')
  if (maxEntryBytes > maxBytes) throw invalid('maxEntryBytes must not exceed maxBytes')
  const routes = options.routes ?? DEFAULT_CACHE_ROUTES
  if (!Array.isArray(routes) || routes.some((route) => typeof route !== 'string' || !route.startsWith('/'))) {
    throw invalid('routes must be a list of paths starting with "/"')
  }
  if (options.scope !== undefined && typeof options.scope !== 'function') {
    throw invalid('scope must be a function of the request headers')
  }
  if (options.onResult !== undefined && typeof options.onResult !== 'function') {
    throw invalid('onResult must be a function')
  }
  return {
    keySecret: derive('continuum-proxy cache key v1'),
    entrySecret: derive('continuum-proxy cache entry v1'),
    ttlMs,
    maxBytes,
    maxEntryBytes,
    scope: options.scope ?? defaultScope,
    routeOf: routeMatcher(routes),
    cacheNonDeterministic: options.cacheNonDeterministic === true,
    onResult: options.onResult,
    clock: options.clock ?? systemClock,
    logger: options.logger ?? silentLogger,
  }
}
