/**
 * The encrypted response cache: keys are HMACs and values AES-256-GCM ciphertexts (see
 * sealed-entry.ts), held in an in-process `lru-cache` bounded by total bytes and TTL, and, with a
 * `store`, in the shared store as well (`cache:<hex>`, same ciphertext, same TTL), so every
 * instance answers from one cache. With a store the in-process layer is optional (`localTtlMs`).
 * An entry is served only while it is younger than the TTL by its own sealed timestamp, so a
 * store that kept (or was given back) an old ciphertext cannot make it live longer. It knows
 * nothing of HTTP; `new CacheStage(cache)` puts it in front of the upstream.
 */
import { LRUCache } from 'lru-cache'
import { brand } from '../internal/brand'
import { StoreFailureReporter } from '../stores/store-failure'
import {
  type ResolvedResponseCacheOptions,
  type ResponseCacheOptions,
  resolveResponseCacheOptions,
} from './response-cache-options'
import { type CachedResponse, openEntry, sealEntry } from './sealed-entry'

const storeKey = (key: string) => `cache:${key}`

/** A cache of inference responses, encrypted at rest, in process and optionally in a shared store. */
export class ResponseCache {
  /** The normalised options. */
  readonly options: ResolvedResponseCacheOptions
  readonly #entries: LRUCache<string, Buffer> | undefined
  readonly #failures: StoreFailureReporter

  constructor(options: ResponseCacheOptions = {}) {
    this.options = resolveResponseCacheOptions(options)
    const clock = this.options.clock
    this.#failures = new StoreFailureReporter('cache', this.options.logger, clock)
    this.#entries =
      this.options.localTtlMs === 0
        ? undefined
        : new LRUCache<string, Buffer>({
            maxSize: this.options.maxBytes,
            maxEntrySize: this.options.maxBytes,
            sizeCalculation: (value, key) => value.byteLength + key.length,
            ttl: this.options.localTtlMs,
            ttlResolution: 0,
            // The injected clock drives expiry, so TTLs are testable and follow the proxy's time.
            perf: { now: () => clock.now() },
          })
  }

  /** The response held in process under `key`, decrypted; undefined when absent, expired or unreadable. */
  get(key: string): CachedResponse | undefined {
    const sealed = this.#entries?.get(key)
    if (sealed === undefined) return undefined
    const entry = this.#open(key, sealed)
    if (entry === undefined) this.#entries!.delete(key)
    return entry
  }

  /**
   * The response under `key` from the in-process layer, else from the store; undefined when
   * absent, expired, unreadable, or (failing open) when the store cannot answer.
   */
  async lookup(key: string): Promise<CachedResponse | undefined> {
    const local = this.get(key)
    const store = this.options.store
    if (local !== undefined || store === undefined) return local
    let sealed: Uint8Array | undefined
    try {
      sealed = await store.getBytes(storeKey(key))
    } catch (error) {
      this.#storeFailed(error)
      return undefined
    }
    if (sealed === undefined) return undefined
    const buffer = Buffer.from(sealed.buffer, sealed.byteOffset, sealed.byteLength)
    const entry = this.#open(key, buffer)
    // Judged by the sealed timestamp, not the store's TTL, which whoever runs the store can change.
    const age = entry === undefined ? Number.NaN : this.options.clock.now() - entry.storedAt
    if (!(age >= 0 && age < this.options.ttlMs)) return undefined
    this.#keepLocally(key, buffer, entry!.storedAt)
    return entry
  }

  /** Encrypts and stores a response in process; false when its sealed form is over `maxEntryBytes`. */
  set(key: string, response: CachedResponse): boolean {
    return this.#keep(key, response) !== undefined
  }

  /**
   * Encrypts and stores a response in process (at once) and in the store; resolves false when it
   * is over `maxEntryBytes` or the store write failed (recorded, never thrown).
   */
  async save(key: string, response: CachedResponse): Promise<boolean> {
    return (await this.store(key, response)) ?? false
  }

  /**
   * {@link save}, saying at once whether the response is kept: undefined when its sealed form is
   * over `maxEntryBytes` (nothing is kept), else the store write, resolving as `save` does. A
   * caller that must know the answer fits (a flight handing it to its waiters) learns it from the
   * one serialisation that seals it.
   */
  store(key: string, response: CachedResponse): Promise<boolean> | undefined {
    const sealed = this.#keep(key, response)
    return sealed === undefined ? undefined : this.#write(key, sealed)
  }

  /** Seals a response and keeps it in process; undefined when it is over `maxEntryBytes`. */
  #keep(key: string, response: CachedResponse): Buffer | undefined {
    const sealed = sealEntry(this.options.entrySecret, key, response)
    if (sealed.byteLength > this.options.maxEntryBytes) return undefined
    this.#entries?.set(key, sealed)
    return sealed
  }

  async #write(key: string, sealed: Buffer): Promise<boolean> {
    const store = this.options.store
    if (store === undefined) return true
    try {
      await store.setBytes(storeKey(key), sealed, this.options.ttlMs)
      return true
    } catch (error) {
      this.#failures.report(error, 'open')
      return false
    }
  }

  /** Forgets one entry held in process. */
  delete(key: string): boolean {
    return this.#entries?.delete(key) ?? false
  }

  /** Forgets one entry, in process and in the store (other instances' in-process layers keep theirs for `localTtlMs`). */
  async invalidate(key: string): Promise<void> {
    this.#entries?.delete(key)
    await this.options.store?.delete(storeKey(key))
  }

  /** Forgets every entry held in process (e.g. after a model update); change `secret` to forget the store's. */
  clear(): void {
    this.#entries?.clear()
  }

  /** Number of entries held in process. */
  get size(): number {
    return this.#entries?.size ?? 0
  }

  /** Bytes held in process (ciphertext plus keys). */
  get bytes(): number {
    return this.#entries?.calculatedSize ?? 0
  }

  /** The keys and ciphertexts held in process, most recently used first: what a heap dump would show. */
  *sealedEntries(): IterableIterator<[key: string, sealed: Buffer]> {
    if (this.#entries === undefined) return
    for (const [key, value] of this.#entries.entries()) yield [key, value]
  }

  #open(key: string, sealed: Buffer): CachedResponse | undefined {
    let entry: CachedResponse
    try {
      entry = openEntry(this.options.entrySecret, key, sealed)
    } catch {
      // An entry that fails authentication is dropped, never served.
      this.options.logger.warn({}, 'cache entry failed to decrypt; dropped')
      return undefined
    }
    return entry
  }

  #keepLocally(key: string, sealed: Buffer, storedAt: number): void {
    const entries = this.#entries
    if (entries === undefined) return
    const left = storedAt + this.options.ttlMs - this.options.clock.now()
    entries.set(key, Buffer.from(sealed), { ttl: Math.max(1, Math.min(this.options.localTtlMs, left)) })
  }

  #storeFailed(error: unknown): void {
    if (this.options.storeFailOpen) {
      this.#failures.report(error, 'open')
      return
    }
    this.#failures.report(error, 'closed')
    throw error
  }
}

brand(ResponseCache.prototype, 'ResponseCache')
