/**
 * The store interface behind every piece of state that must agree across instances: replay
 * nonces, rate-limit windows and concurrency leases, breaker state, privacy budgets, cached
 * answers, evaluation keys. The operations are the few a Redis server answers atomically in one
 * round trip (SET NX PX, INCRBYFLOAT with PEXPIRE, a check-and-charge script, a lease script,
 * GET, DEL), so the Redis store and the in-memory default are interchangeable. A store that
 * cannot answer rejects with CONTINUUM_STORE_UNAVAILABLE; each caller decides whether that fails
 * closed (replay, budgets) or open (limits, cache).
 *
 * Keys are opaque strings chosen by callers, never content. Keys that one operation touches
 * together carry the same hash tag (`{...}`), so they live on one Redis Cluster slot.
 */

/** One charge of {@link StateStore.chargeWithin}: add `amount` to `key` if the result stays within `limit`. */
export interface StoreCharge {
  readonly key: string
  readonly amount: number
  readonly limit: number
}

/** What {@link StateStore.chargeWithin} did: all charges applied, or none. */
export interface StoreChargeResult {
  readonly accepted: boolean
  /** The values after the call, in the order of the charges (unchanged when refused). */
  readonly values: readonly number[]
}

/** Shared key-value state with TTLs. */
export interface StateStore {
  /** Reads a value; `undefined` when absent or expired. */
  get(key: string): Promise<string | undefined>
  /** Writes a value, optionally expiring after `ttlMs`. */
  set(key: string, value: string, ttlMs?: number): Promise<void>
  /** Writes only when absent; resolves `true` when this call wrote it. */
  setIfAbsent(key: string, value: string, ttlMs: number): Promise<boolean>
  /**
   * Adds `amount` (may be fractional or negative) to a numeric value, creating it at 0 first, and
   * resolves the new value. A created key expires after `ttlMs`; an existing key keeps its expiry.
   */
  increment(key: string, amount: number, ttlMs: number): Promise<number>
  /**
   * Atomically applies every charge when each key's value plus its amount stays at or under its
   * limit, and none otherwise (check-and-charge: no double spend under concurrency). Created keys
   * expire after `ttlMs`; existing keys keep their expiry.
   */
  chargeWithin(charges: readonly StoreCharge[], ttlMs: number): Promise<StoreChargeResult>
  /**
   * Takes `weight` (a positive integer, default 1) of the `limit` units of `key` for `holder`
   * until `ttlMs` from now (a lease: a crashed holder cannot keep its units forever); resolves
   * `false`, taking nothing, when the live leases of other holders plus `weight` would exceed
   * `limit`. Taking again what the holder already has renews it (with the new weight). Expiry is
   * judged on the store's own clock, so instances with skewed clocks agree on it.
   */
  acquireLease(key: string, holder: string, limit: number, ttlMs: number, weight?: number): Promise<boolean>
  /** Gives a slot back. */
  releaseLease(key: string, holder: string): Promise<void>
  /** Reads binary data (an encrypted cache entry, say); `undefined` when absent or expired. */
  getBytes(key: string): Promise<Uint8Array | undefined>
  /** Writes binary data expiring after `ttlMs`. */
  setBytes(key: string, value: Uint8Array, ttlMs: number): Promise<void>
  /** Moves a key's expiry to `ttlMs` from now; resolves `false` when the key is absent. */
  touch(key: string, ttlMs: number): Promise<boolean>
  /** Removes a key. */
  delete(key: string): Promise<void>
  /** Releases connections and timers. */
  close?(): Promise<void>
}
