/**
 * The store interface behind every piece of shared state: replay nonces, rate-limit windows,
 * breaker counters, privacy budgets. The operations are the few that a Redis server answers
 * atomically (SET NX PX, INCRBYFLOAT with PEXPIRE, GET, DEL), so a Redis store can replace the
 * in-memory default without changing callers.
 */

/** Shared key-value state with TTLs. Keys are opaque strings chosen by callers; never content. */
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
  /** Removes a key. */
  delete(key: string): Promise<void>
  /** Releases connections and timers. */
  close?(): Promise<void>
}
