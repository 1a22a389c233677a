/**
 * Where the FHE service holds uploaded evaluation keys: per caller identity, each identity within
 * its own byte quota, all of them within one total. Nothing is ever evicted to make room: an
 * upload past a quota or past the total is refused, so no caller can push out another's keys
 * (an LRU shared by everyone let 80 anonymous uploads evict a victim's). Keys leave when their
 * owner deletes them or after they went unused for the idle period, read from the injected clock.
 */
import type { Clock } from '../core/clock'
import { ContinuumError } from '../errors'

/** One identity's keys under one key id. */
export interface StoredKeys<T> {
  readonly identity: string
  readonly keyId: string
  readonly bytes: number
  readonly value: T
}

/** Options of {@link EvaluationKeyStore}. */
export interface EvaluationKeyStoreOptions<T> {
  readonly maxBytes: number
  readonly quotaBytes: number
  readonly idleMs: number
  readonly clock: Clock
  /** Called once for every entry that leaves the store. */
  readonly release: (entry: StoredKeys<T>) => void
}

interface Slot<T> {
  readonly entry: StoredKeys<T>
  lastUsed: number
}

const slotKey = (identity: string, keyId: string) => `${identity.length}:${identity}:${keyId}`

/** Evaluation keys by (identity, key id), bounded per identity and in total, never evicting. */
export class EvaluationKeyStore<T> {
  readonly #options: EvaluationKeyStoreOptions<T>
  /** Ordered by last use, oldest first: expiry sweeps from the front. */
  readonly #slots = new Map<string, Slot<T>>()
  readonly #usage = new Map<string, number>()
  #total = 0

  constructor(options: EvaluationKeyStoreOptions<T>) {
    this.#options = options
  }

  /** Bytes held in total, reservations included. */
  get totalBytes(): number {
    return this.#total
  }

  /** Bytes an identity holds, reservations included. */
  usage(identity: string): number {
    this.#expire()
    return this.#usage.get(identity) ?? 0
  }

  /** The keys an identity holds under a key id (refreshing their idle time), or undefined. */
  get(identity: string, keyId: string): StoredKeys<T> | undefined {
    this.#expire()
    const key = slotKey(identity, keyId)
    const slot = this.#slots.get(key)
    if (slot === undefined) return undefined
    this.#slots.delete(key)
    slot.lastUsed = this.#options.clock.now()
    this.#slots.set(key, slot)
    return slot.entry
  }

  /**
   * Reserves room for `bytes` more of an identity's keys, or throws
   * `CONTINUUM_FHE_KEY_QUOTA_EXCEEDED` (the identity's quota) or `CONTINUUM_FHE_KEY_STORE_FULL`
   * (the total). Call `release` with the same size if the keys are not stored after all.
   */
  reserve(identity: string, bytes: number): void {
    this.#expire()
    const used = this.#usage.get(identity) ?? 0
    if (used + bytes > this.#options.quotaBytes) {
      throw new ContinuumError(
        'CONTINUUM_FHE_KEY_QUOTA_EXCEEDED',
        'These evaluation keys would exceed the caller’s key quota; delete unused keys first',
        {
          details: { quotaBytes: this.#options.quotaBytes, usedBytes: used },
          retryAfterSeconds: this.#retryAfter(),
        },
      )
    }
    if (this.#total + bytes > this.#options.maxBytes) {
      throw new ContinuumError('CONTINUUM_FHE_KEY_STORE_FULL', 'The evaluation-key store is full', {
        retryAfterSeconds: this.#retryAfter(),
      })
    }
    this.#usage.set(identity, used + bytes)
    this.#total += bytes
  }

  /** Gives back a reservation that was not stored. */
  unreserve(identity: string, bytes: number): void {
    const left = (this.#usage.get(identity) ?? 0) - bytes
    if (left > 0) this.#usage.set(identity, left)
    else this.#usage.delete(identity)
    this.#total -= bytes
  }

  /** Stores keys whose room was reserved. An entry already under the same id is released first. */
  commit(entry: StoredKeys<T>): void {
    const key = slotKey(entry.identity, entry.keyId)
    const previous = this.#slots.get(key)
    if (previous !== undefined) this.#remove(key, previous)
    this.#slots.set(key, { entry, lastUsed: this.#options.clock.now() })
  }

  /** Removes an identity's keys under a key id; false when it held none. */
  delete(identity: string, keyId: string): boolean {
    const key = slotKey(identity, keyId)
    const slot = this.#slots.get(key)
    if (slot === undefined) return false
    this.#remove(key, slot)
    return true
  }

  /** Removes everything. */
  clear(): void {
    for (const [key, slot] of [...this.#slots]) this.#remove(key, slot)
  }

  #remove(key: string, slot: Slot<T>): void {
    this.#slots.delete(key)
    this.unreserve(slot.entry.identity, slot.entry.bytes)
    this.#options.release(slot.entry)
  }

  /** Drops keys unused for the idle period; the oldest are first in the map. */
  #expire(): void {
    const limit = this.#options.clock.now() - this.#options.idleMs
    for (const [key, slot] of this.#slots) {
      if (slot.lastUsed > limit) break
      this.#remove(key, slot)
    }
  }

  /** Seconds until the least recently used keys expire, for Retry-After. */
  #retryAfter(): number {
    const oldest = this.#slots.values().next()
    const wait =
      oldest.done === true
        ? this.#options.idleMs
        : oldest.value.lastUsed + this.#options.idleMs - this.#options.clock.now()
    return Math.max(1, Math.ceil(wait / 1000))
  }
}
