/**
 * Replay protection: a request must carry a timestamp within the window and a nonce not seen in
 * that window. Nonces are remembered for twice the window: in a compact in-process NonceWindow by
 * default, or in a StateStore (SET NX semantics) when one is given, so a shared store rejects a
 * replay sent to any instance of a horizontally scaled service.
 */
import { type Clock, systemClock } from '../core/clock'
import { ContinuumError } from '../errors'
import type { StateStore } from '../stores'
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
   * Most nonces the in-process window keeps per generation (two generations); unused with a store.
   * @default 1000000
   */
  maxNonces?: number
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
}

const NONCE_PATTERN = new RegExp(`^[A-Za-z0-9_-]{${Math.ceil((NONCE_LENGTH * 4) / 3)}}$`)

/** Rejects stale and repeated requests. */
export class ReplayGuard {
  readonly #store: StateStore | undefined
  readonly #window: NonceWindow | undefined
  readonly #windowMs: number
  readonly #clock: Clock

  constructor(options: ReplayGuardOptions) {
    this.#store = options.store
    this.#windowMs = options.windowMs ?? 300_000
    if (!Number.isFinite(this.#windowMs) || this.#windowMs <= 0) {
      throw new ContinuumError('CONTINUUM_INVALID_OPTIONS', 'replayWindowMs must be a positive number')
    }
    this.#clock = options.clock ?? systemClock
    const maxNonces = options.maxNonces ?? 1_000_000
    if (!Number.isSafeInteger(maxNonces) || maxNonces < 1) {
      throw new ContinuumError('CONTINUUM_INVALID_OPTIONS', 'maxNonces must be a positive integer')
    }
    this.#window =
      this.#store === undefined ? new NonceWindow(this.#windowMs * 2, maxNonces, this.#clock) : undefined
  }

  /** Checks the nonce syntax and the timestamp window, before any key work. */
  checkFreshness(nonce: string | undefined, timestamp: string | undefined): void {
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
  }

  /** Records the nonce once the request authenticated; throws CONTINUUM_REPLAY_DETECTED on reuse. */
  async remember(keyId: string, nonce: string): Promise<void> {
    const fresh =
      this.#window !== undefined
        ? this.#window.add(`${keyId}:${nonce}`)
        : await this.#store!.setIfAbsent(`continuum:nonce:${keyId}:${nonce}`, '1', this.#windowMs * 2)
    if (!fresh) throw new ContinuumError('CONTINUUM_REPLAY_DETECTED', 'Request nonce was already used')
  }
}
