/**
 * The in-memory StateStore: a Map with lazy expiry, bounded by entry count (oldest entries are
 * evicted first, through lru-cache) so a flood of unique keys cannot grow memory without limit.
 * Every operation runs synchronously inside one call, which makes each one atomic within the
 * process, as the Redis store's scripts are across processes.
 */
import { LRUCache } from 'lru-cache'
import type { Clock } from '../core/clock'
import { systemClock } from '../core/clock'
import { ContinuumError } from '../errors'
import type { StateStore, StoreCharge, StoreChargeResult } from './state-store'

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

/** A lease: until when, and how many units it takes. */
interface Lease {
  until: number
  weight: number
}

interface Entry {
  value: string | Uint8Array | Map<string, Lease>
  expiresAt: number
}

function numberOf(entry: Entry | undefined): number {
  return entry === undefined || typeof entry.value !== 'string' ? 0 : Number(entry.value)
}

/** Lease weights are positive integers, in both stores. */
export function assertWeight(weight: number): void {
  if (!Number.isSafeInteger(weight) || weight < 1) {
    throw new ContinuumError('CONTINUUM_INVALID_OPTIONS', 'A lease weight must be a positive integer')
  }
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
    const value = this.#live(key)?.value
    return typeof value === 'string' ? value : undefined
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
    return this.#add(key, amount, ttlMs)
  }

  #add(key: string, amount: number, ttlMs: number): number {
    const entry = this.#live(key)
    const next = numberOf(entry) + amount
    this.#entries.set(key, {
      value: String(next),
      expiresAt: entry === undefined ? this.#clock.now() + ttlMs : entry.expiresAt,
    })
    return next
  }

  async chargeWithin(charges: readonly StoreCharge[], ttlMs: number): Promise<StoreChargeResult> {
    const current = charges.map((charge) => numberOf(this.#live(charge.key)))
    if (charges.some((charge, index) => current[index]! + charge.amount > charge.limit)) {
      return { accepted: false, values: current }
    }
    return { accepted: true, values: charges.map((charge) => this.#add(charge.key, charge.amount, ttlMs)) }
  }

  async acquireLease(
    key: string,
    holder: string,
    limit: number,
    ttlMs: number,
    weight = 1,
  ): Promise<boolean> {
    assertWeight(weight)
    const now = this.#clock.now()
    const entry = this.#live(key)
    const leases = entry !== undefined && entry.value instanceof Map ? entry.value : new Map<string, Lease>()
    let used = 0
    for (const [owner, lease] of leases) {
      if (lease.until <= now) leases.delete(owner)
      else if (owner !== holder) used += lease.weight
    }
    if (used + weight > limit) return false
    leases.set(holder, { until: now + ttlMs, weight })
    let last = 0
    for (const lease of leases.values()) last = Math.max(last, lease.until)
    this.#entries.set(key, { value: leases, expiresAt: last })
    return true
  }

  async releaseLease(key: string, holder: string): Promise<void> {
    const entry = this.#live(key)
    if (entry !== undefined && entry.value instanceof Map) entry.value.delete(holder)
  }

  async getBytes(key: string): Promise<Uint8Array | undefined> {
    const value = this.#live(key)?.value
    return value instanceof Uint8Array ? value : undefined
  }

  async setBytes(key: string, value: Uint8Array, ttlMs: number): Promise<void> {
    this.#entries.set(key, { value: Uint8Array.from(value), expiresAt: this.#clock.now() + ttlMs })
  }

  async touch(key: string, ttlMs: number): Promise<boolean> {
    const entry = this.#live(key)
    if (entry === undefined) return false
    entry.expiresAt = this.#clock.now() + ttlMs
    return true
  }

  async delete(key: string): Promise<void> {
    this.#entries.delete(key)
  }
}
