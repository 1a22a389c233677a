/**
 * The encrypted response cache: an `lru-cache` bounded by total bytes and per-entry TTL whose
 * keys are HMACs and whose values are AES-256-GCM ciphertexts (see sealed-entry.ts). It knows
 * nothing of HTTP; `new CacheStage(cache)` puts it in front of the upstream.
 */
import { LRUCache } from 'lru-cache'
import { brand } from '../internal/brand'
import {
  type ResolvedResponseCacheOptions,
  type ResponseCacheOptions,
  resolveResponseCacheOptions,
} from './response-cache-options'
import { type CachedResponse, openEntry, sealEntry } from './sealed-entry'

/** An in-memory cache of inference responses, encrypted at rest. */
export class ResponseCache {
  /** The normalised options. */
  readonly options: ResolvedResponseCacheOptions
  readonly #entries: LRUCache<string, Buffer>

  constructor(options: ResponseCacheOptions = {}) {
    this.options = resolveResponseCacheOptions(options)
    const clock = this.options.clock
    this.#entries = new LRUCache<string, Buffer>({
      maxSize: this.options.maxBytes,
      maxEntrySize: this.options.maxBytes,
      sizeCalculation: (value, key) => value.byteLength + key.length,
      ttl: this.options.ttlMs,
      ttlResolution: 0,
      // The injected clock drives expiry, so TTLs are testable and follow the proxy's time.
      perf: { now: () => clock.now() },
    })
  }

  /** The response stored under `key`, decrypted; undefined when absent, expired or unreadable. */
  get(key: string): CachedResponse | undefined {
    const sealed = this.#entries.get(key)
    if (sealed === undefined) return undefined
    try {
      return openEntry(this.options.entrySecret, key, sealed)
    } catch {
      // An entry that fails authentication is dropped, never served.
      this.#entries.delete(key)
      this.options.logger.warn('cache entry failed to decrypt; dropped')
      return undefined
    }
  }

  /** Encrypts and stores a response; false when its sealed form is over `maxEntryBytes`. */
  set(key: string, response: CachedResponse): boolean {
    const sealed = sealEntry(this.options.entrySecret, key, response)
    if (sealed.byteLength > this.options.maxEntryBytes) return false
    this.#entries.set(key, sealed)
    return true
  }

  /** Forgets one entry. */
  delete(key: string): boolean {
    return this.#entries.delete(key)
  }

  /** Forgets every entry (e.g. after a model update). */
  clear(): void {
    this.#entries.clear()
  }

  /** Number of entries held. */
  get size(): number {
    return this.#entries.size
  }

  /** Bytes held (ciphertext plus keys). */
  get bytes(): number {
    return this.#entries.calculatedSize
  }

  /** The stored keys and ciphertexts, most recently used first: what a heap dump would show. */
  *sealedEntries(): IterableIterator<[key: string, sealed: Buffer]> {
    for (const [key, value] of this.#entries.entries()) yield [key, value]
  }
}

brand(ResponseCache.prototype, 'ResponseCache')
