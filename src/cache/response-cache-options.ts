/**
 * Options of the encrypted response cache, validated and normalised once: the server secret is
 * split into two independent keys (one for cache keys, one for entries at rest), the route list is
 * compiled, the byte bounds are checked against each other, and a shared store's settings (its
 * in-process layer, what a store failure does) are fixed, so a lookup only reads precomputed values.
 */
import { createHash, hkdfSync, randomBytes } from 'node:crypto'
import { decodeKeyMaterial, type KeyMaterial } from '../cipher/field-key'
import { type Clock, systemClock } from '../core/clock'
import { type Logger, silentLogger } from '../core/logger'
import { ContinuumError } from '../errors'
import { CREDENTIAL_HEADERS } from '../internal/credential-headers'
import type { Exchange } from '../proxy/exchange'
import type { StateStore } from '../stores'
import type { CoalesceSettings } from './cache-flights'

/** What a lookup found: served from the cache, forwarded and possibly stored, or not eligible. */
export type CacheResult = 'hit' | 'miss' | 'bypass'

/** Options of {@link ResponseCache}. */
export interface ResponseCacheOptions {
  /**
   * Server-side secret, 32 bytes (raw, hex or base64): keys the cache-key HMAC and the at-rest
   * encryption. Required with a `store`: every instance must derive the same keys to share
   * entries. Changing it makes every entry unreachable (they expire with their TTL).
   * @default 32 random bytes per process (entries then die with the process, which is the point)
   */
  secret?: KeyMaterial
  /**
   * How long an entry is served, in milliseconds.
   * @default 300000 (5 minutes)
   */
  ttlMs?: number
  /**
   * Upper bound of all entries held in process together, in bytes (ciphertext plus key); least
   * recently used entries are evicted first. With a `store` it bounds the in-process layer in
   * front of it (Redis's own `maxmemory` bounds the store).
   * @default 67108864 (64 MiB)
   */
  maxBytes?: number
  /**
   * Largest response stored, in bytes; a larger one is relayed and not cached.
   * @default 4194304 (4 MiB)
   */
  maxEntryBytes?: number
  /**
   * The caller's scope: entries are shared only between exchanges of equal scope. Whatever it
   * returns, the field-key identity and the `scopeHeaders` are part of every key as well, so no
   * scope function can make two field keys (or two agreement clients) share an entry. It runs
   * synchronously: a function that throws or returns anything but a string (an async one's
   * Promise) makes the request a bypass.
   * @default {@link defaultScope}: a digest of every credential header the request carries
   */
  scope?: (exchange: Exchange) => string
  /**
   * More request headers that tell callers apart (lower case), e.g. `['x-tenant-id']` when a
   * gateway in front authenticates callers and passes their identity on; each one's value is part
   * of every key.
   * @default []
   */
  scopeHeaders?: readonly string[]
  /**
   * The cacheable routes, as `adapter.route` names (e.g. `openai.chat-completions`).
   * @default every route whose adapter declares it cacheable
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
   * A shared store for the entries (`continuum-proxy/redis`), so every instance answers from one
   * cache: entries go there sealed (AES-256-GCM under keys only the instances hold) with the TTL,
   * under HMAC keys (`cache:<hex>`) that reveal nothing of the request.
   * @default undefined (entries live in this process only)
   */
  store?: StateStore
  /**
   * With a `store`: how long an entry read from (or written to) the store is also served from an
   * in-process layer (bounded by `maxBytes`), saving a round trip. An entry deleted elsewhere may
   * be served here for this long. 0 turns the layer off.
   * @default 0
   */
  localTtlMs?: number
  /**
   * With a `store`: what a lookup does when the store cannot answer. `open` forwards the request
   * as a miss (a metric and a log line record it); `closed` refuses it with 503
   * CONTINUUM_STORE_UNAVAILABLE. A failed write is always only recorded.
   * @default 'open'
   */
  storeFailure?: 'open' | 'closed'
  /**
   * Single flight for misses: identical cacheable requests (same cache key, so same scope, field
   * key and vary headers) that arrive while the first is upstream wait for its answer instead of
   * all going upstream. At most `maxWaiters` wait on one request (the others go upstream on
   * their own), none longer than `maxWaitMs`. Only an answer the cache would store is shared;
   * after an error, a cut stream or an abandoned leader one waiter goes upstream next and the
   * rest wait for it. A waiter of a stream receives it whole once the leader's stream completed.
   * Per process. `false` turns it off.
   * @default { maxWaiters: 100, maxWaitMs: 60000 }
   */
  coalesce?: false | { maxWaiters?: number; maxWaitMs?: number }
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

/** Options after normalisation. */
export interface ResolvedResponseCacheOptions {
  /** HMAC key of cache keys. */
  readonly keySecret: Buffer
  /** Input key material of the per-entry encryption keys. */
  readonly entrySecret: Buffer
  readonly ttlMs: number
  readonly maxBytes: number
  readonly store: StateStore | undefined
  /** How long the in-process layer keeps an entry: `ttlMs` without a store, 0 for none. */
  readonly localTtlMs: number
  readonly storeFailOpen: boolean
  readonly maxEntryBytes: number
  readonly scope: (exchange: Exchange) => string
  readonly scopeHeaders: readonly string[]
  /** The routes the cache is limited to; undefined for every cacheable route. */
  readonly routes: ReadonlySet<string> | undefined
  readonly cacheNonDeterministic: boolean
  readonly onResult: ((result: CacheResult, route: string) => void) | undefined
  /** The bounds of single flight; undefined when it is off. */
  readonly coalesce: CoalesceSettings | undefined
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

/** Credential headers the route's protocol does not name itself, computed once per route. */
const otherCredentialsByRoute = new WeakMap<Exchange['route']['route'], readonly string[]>()

function otherCredentialHeaders(route: Exchange['route']['route']): readonly string[] {
  let names = otherCredentialsByRoute.get(route)
  if (names === undefined) {
    names = [...CREDENTIAL_HEADERS].filter((name) => !route.credentialHeaders.includes(name))
    otherCredentialsByRoute.set(route, names)
  }
  return names
}

/**
 * The default scope: a digest of the credentials the request carries (`authorization`,
 * `x-api-key`, `api-key`, `cookie`, ...), never the credentials themselves. Two callers share
 * entries only when they present the same credentials (and, always, the same field key: see
 * `scope`). Every credential header counts, not only the protocol's own: an upstream behind an
 * OpenAI route may authenticate by `x-api-key` or a cookie, and a scope blind to it served a
 * caller with another (or a revoked) key the first caller's answer.
 */
export function defaultScope(exchange: Exchange): string {
  const hash = createHash('sha256')
  const headers = exchange.request.headers
  const route = exchange.route.route
  for (const name of route.credentialHeaders) {
    hash.update(name)
    hash.update('\0')
    hash.update(headers[name] ?? '')
    hash.update('\0')
  }
  // Only when present, so the scope (and every stored key) of a request without them is as it
  // was; a header value holds no NUL, so the two parts cannot run into each other.
  for (const name of otherCredentialHeaders(route)) {
    const value = headers[name]
    if (value === undefined) continue
    hash.update(`+${name}\0${value}\0`)
  }
  return hash.digest('hex')
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
  const store = options.store
  if (store !== undefined && (typeof store !== 'object' || typeof store.getBytes !== 'function')) {
    throw invalid('store must be a StateStore')
  }
  if (store !== undefined && options.secret === undefined) {
    throw invalid('secret is required with a store: every instance must derive the same keys')
  }
  const localTtlMs = options.localTtlMs ?? 0
  if (!Number.isSafeInteger(localTtlMs) || localTtlMs < 0)
    throw invalid('localTtlMs must be a non-negative integer')
  const storeFailure = options.storeFailure ?? 'open'
  if (storeFailure !== 'open' && storeFailure !== 'closed')
    throw invalid("storeFailure must be 'open' or 'closed'")
  const routes = options.routes
  if (
    routes !== undefined &&
    (!Array.isArray(routes) ||
      routes.some((route) => typeof route !== 'string' || !/^[\w-]+\.[\w-]+$/.test(route)))
  ) {
    throw invalid('routes must be a list of adapter.route names, e.g. openai.chat-completions')
  }
  if (options.scope !== undefined && typeof options.scope !== 'function') {
    throw invalid('scope must be a function of the request headers')
  }
  const scopeHeaders = options.scopeHeaders ?? []
  if (
    !Array.isArray(scopeHeaders) ||
    scopeHeaders.some((name) => typeof name !== 'string' || !/^[a-z0-9!#$%&'*+.^_`|~-]+$/.test(name))
  ) {
    throw invalid('scopeHeaders must be a list of lower-case header names')
  }
  if (options.onResult !== undefined && typeof options.onResult !== 'function') {
    throw invalid('onResult must be a function')
  }
  const coalesce = options.coalesce ?? {}
  if (coalesce !== false && (typeof coalesce !== 'object' || coalesce === null || Array.isArray(coalesce))) {
    throw invalid('coalesce must be false or { maxWaiters, maxWaitMs }')
  }
  return {
    keySecret: derive('continuum-proxy cache key v1'),
    entrySecret: derive('continuum-proxy cache entry v1'),
    ttlMs,
    maxBytes,
    maxEntryBytes,
    store,
    localTtlMs: store === undefined ? ttlMs : Math.min(localTtlMs, ttlMs),
    storeFailOpen: storeFailure === 'open',
    scope: options.scope ?? defaultScope,
    scopeHeaders: Object.freeze([...scopeHeaders]),
    routes: routes === undefined ? undefined : new Set(routes),
    cacheNonDeterministic: options.cacheNonDeterministic === true,
    onResult: options.onResult,
    coalesce:
      coalesce === false
        ? undefined
        : {
            maxWaiters: positiveInteger(coalesce.maxWaiters, 100, 'coalesce.maxWaiters'),
            maxWaitMs: positiveInteger(coalesce.maxWaitMs, 60_000, 'coalesce.maxWaitMs'),
          },
    clock: options.clock ?? systemClock,
    logger: options.logger ?? silentLogger,
  }
}
