/**
 * The in-memory StateStore: a Map with lazy expiry, bounded by entry count (oldest entries are
 * evicted first, through lru-cache) so a flood of unique keys cannot grow memory without limit.
 */
import { LRUCache } from 'lru-cache'
import type { Clock } from '../core/clock'
import { systemClock } from '../core/clock'
import { ContinuumError } from '../errors'
import type { StateStore } from './state-store'

/** Options of {@link MemoryStateStore}. */
export interface MemoryStateStoreOptions {
  /**
   * Most entries held; the least recently used are evicted past it.
   * @default 100000
   */
  maxEntries?: number
  /**
   * Time source, injectable for tests.
   * @default systemClock
   */
  clock?: Clock
}

interface Entry {
  value: string
  expiresAt: number
}

/** A process-local {@link StateStore}. */
export class MemoryStateStore implements StateStore {
  readonly #entries: LRUCache<string, Entry>
  readonly #clock: Clock

  constructor(options: MemoryStateStoreOptions = {}) {
    const maxEntries = options.maxEntries ?? 100_000
    if (!Number.isInteger(maxEntries) || maxEntries < 1) {
      throw new ContinuumError(
        'CONTINUUM_INVALID_OPTIONS',
        'MemoryStateStore: maxEntries must be a positive integer',
      )
    }
    this.#entries = new LRUCache({ max: maxEntries })
    this.#clock = options.clock ?? systemClock
  }

  #live(key: string): Entry | undefined {
    const entry = this.#entries.get(key)
    if (entry === undefined) return undefined
    if (entry.expiresAt <= this.#clock.now()) {
      this.#entries.delete(key)
      return undefined
    }
    return entry
  }

  async get(key: string): Promise<string | undefined> {
    return this.#live(key)?.value
  }

  async set(key: string, value: string, ttlMs?: number): Promise<void> {
    this.#entries.set(key, {
      value,
      expiresAt: ttlMs === undefined ? Number.POSITIVE_INFINITY : this.#clock.now() + ttlMs,
    })
  }

  async setIfAbsent(key: string, value: string, ttlMs: number): Promise<boolean> {
    if (this.#live(key) !== undefined) return false
    this.#entries.set(key, { value, expiresAt: this.#clock.now() + ttlMs })
    return true
  }

  async increment(key: string, amount: number, ttlMs: number): Promise<number> {
    const entry = this.#live(key)
    const next = (entry === undefined ? 0 : Number(entry.value)) + amount
    this.#entries.set(key, {
      value: String(next),
      expiresAt: entry === undefined ? this.#clock.now() + ttlMs : entry.expiresAt,
    })
    return next
  }

  async delete(key: string): Promise<void> {
    this.#entries.delete(key)
  }
}
