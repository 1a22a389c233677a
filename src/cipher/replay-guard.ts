/**
 * Replay protection: a request must carry a timestamp within the window and a nonce not seen in
 * that window. By default nonces are remembered in a compact in-process NonceWindow for twice the
 * window, which covers a request stamped at either edge on the one clock that judges it. With a
 * StateStore (one SET NX PX per request) a replay sent to any instance of a horizontally scaled
 * service is refused; there the key expires a window after the stamp leaves this instance's
 * window (twice the window for a request stamped now, three times for one stamped at the far
 * edge), so every instance whose clock lags this one by up to a window refuses the stamp before
 * the nonce is forgotten. A fixed twice the window let a request stamped ahead be replayed to a
 * lagging instance. The in-process window never forgets a nonce early: at its capacity new
 * requests are refused (503, retryable) instead. A store that cannot answer fails closed: the
 * request is refused with 503 CONTINUUM_STORE_UNAVAILABLE (retryable), never let through unchecked.
 */
import { type Clock, systemClock } from '../core/clock'
import { type Logger, silentLogger } from '../core/logger'
import { ContinuumError } from '../errors'
import type { StateStore } from '../stores'
import { StoreFailureReporter } from '../stores/store-failure'
import { NONCE_LENGTH } from './format'
import { NonceWindow } from './nonce-window'

/** Options of {@link ReplayGuard}. */
export interface ReplayGuardOptions {
  /**
   * Where seen nonces are kept when they must be shared between instances.
   * @default an in-process NonceWindow
   */
  store?: StateStore
  /**
   * Most nonces the in-process window holds at once; past it new requests are refused with 503
   * CONTINUUM_REPLAY_CAPACITY_EXCEEDED until old ones expire, never by forgetting one. Unused with a store.
   * @default 1000000
   */
  capacity?: number
  /**
   * Accepted clock skew either way, in milliseconds.
   * @default 300000 (5 minutes)
   */
  windowMs?: number
  /**
   * Time source.
   * @default systemClock
   */
  clock?: Clock
  /**
   * Receives a content-free line when the store fails (requests are then refused).
   * @default silentLogger
   */
  logger?: Logger
}

const NONCE_PATTERN = new RegExp(`^[A-Za-z0-9_-]{${Math.ceil((NONCE_LENGTH * 4) / 3)}}$`)

/** Rejects stale and repeated requests. */
export class ReplayGuard {
  readonly #store: StateStore | undefined
  readonly #window: NonceWindow | undefined
  readonly #windowMs: number
  readonly #clock: Clock
  readonly #failures: StoreFailureReporter

  constructor(options: ReplayGuardOptions) {
    this.#store = options.store
    this.#windowMs = options.windowMs ?? 300_000
    if (!Number.isFinite(this.#windowMs) || this.#windowMs <= 0) {
      throw new ContinuumError('CONTINUUM_INVALID_OPTIONS', 'replayWindowMs must be a positive number')
    }
    this.#clock = options.clock ?? systemClock
    this.#failures = new StoreFailureReporter('replay', options.logger ?? silentLogger, this.#clock)
    const capacity = options.capacity ?? 1_000_000
    if (!Number.isSafeInteger(capacity) || capacity < 1) {
      throw new ContinuumError('CONTINUUM_INVALID_OPTIONS', 'replayCapacity must be a positive integer')
    }
    this.#window =
      this.#store === undefined ? new NonceWindow(this.#windowMs * 2, capacity, this.#clock) : undefined
  }

  /** Checks the nonce syntax and the timestamp window, before any key work; returns the timestamp. */
  checkFreshness(nonce: string | undefined, timestamp: string | undefined): number {
    if (nonce === undefined || !NONCE_PATTERN.test(nonce)) {
      throw new ContinuumError(
        'CONTINUUM_INTEGRITY_FAILED',
        `Request nonce must be ${NONCE_LENGTH} bytes of base64url`,
      )
    }
    const sent = timestamp !== undefined && /^\d{1,16}$/.test(timestamp) ? Number(timestamp) : Number.NaN
    if (!Number.isFinite(sent) || Math.abs(this.#clock.now() - sent) > this.#windowMs) {
      throw new ContinuumError(
        'CONTINUUM_TIMESTAMP_OUT_OF_WINDOW',
        'Request timestamp is missing or outside the replay window',
        {
          details: { windowMs: this.#windowMs },
        },
      )
    }
    return sent
  }

  /**
   * Records the nonce once the request authenticated; throws CONTINUUM_REPLAY_DETECTED on reuse,
   * and CONTINUUM_REPLAY_CAPACITY_EXCEEDED (503, with Retry-After) when the window is full.
   * `sentAt` is the request's timestamp, as {@link checkFreshness} returned it.
   */
  async remember(keyId: string, nonce: string, sentAt = this.#clock.now()): Promise<void> {
    const window = this.#window
    const admission =
      window !== undefined
        ? window.add(`${keyId}:${nonce}`)
        : await this.#rememberShared(keyId, nonce, sentAt)
    if (admission === 'seen') {
      throw new ContinuumError('CONTINUUM_REPLAY_DETECTED', 'Request nonce was already used')
    }
    if (admission === 'full') {
      throw new ContinuumError(
        'CONTINUUM_REPLAY_CAPACITY_EXCEEDED',
        'Replay memory is full for the current window; retry later',
        { retryAfterSeconds: Math.max(1, Math.ceil(window!.retryAfterMs() / 1000)) },
      )
    }
  }

  /** SET NX PX in the store; no hash tag, so nonces spread over every slot of a cluster. */
  async #rememberShared(keyId: string, nonce: string, sentAt: number): Promise<'fresh' | 'seen'> {
    // Until the stamp leaves this clock's window (sentAt + window), plus a window of skew.
    const ttlMs = Math.max(1, sentAt + this.#windowMs * 2 - this.#clock.now())
    try {
      return (await this.#store!.setIfAbsent(`nonce:${keyId}:${nonce}`, '1', ttlMs)) ? 'fresh' : 'seen'
    } catch (error) {
      this.#failures.report(error, 'closed')
      throw ContinuumError.isInstance(error)
        ? error
        : new ContinuumError('CONTINUUM_STORE_UNAVAILABLE', 'The replay memory could not be consulted', {
            cause: error,
          })
    }
  }

  /** Nonces the in-process window holds, and the bytes they take; undefined with a store. */
  memory(): { nonces: number; bytes: number } | undefined {
    const window = this.#window
    return window === undefined ? undefined : { nonces: window.size, bytes: window.bytes }
  }
}
