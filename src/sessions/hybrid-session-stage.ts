/**
 * The hybrid session stage: serves the handshake of the post-quantum agreement
 * (`POST /.well-known/continuum-session`, docs/PROTOCOL.md §1.3) and bounds every session by time
 * (in its ticket, checked by the keyring) and by request count (here, after the request
 * authenticated, so nobody without the session key can spend a session's requests). Counts live
 * in the StateStore, shared across instances when it is Redis; tickets carry the session key
 * sealed under a key only the servers hold, so the store never holds key material. A session
 * that used up its requests is refused with a sealed CONTINUUM_KEY_RETIRED, and the client
 * agrees a new session and retries once. Give the same stage, keyring and store to every instance.
 */

import { HEADERS } from '../cipher/format'
import { SESSION_PATH, type SessionPolicy } from '../cipher/hybrid-handshake'
import type { Keyring } from '../cipher/keyring'
import { type Clock, systemClock } from '../core/clock'
import type { CoreHandler, CoreRequest, CoreResponse } from '../core/http'
import { type Logger, silentLogger } from '../core/logger'
import { ContinuumError } from '../errors'
import { hasBrand } from '../internal/brand'
import { readJsonBody } from '../proxy/body-reader'
import type { ProxyStage } from '../proxy/stage'
import { MemoryStateStore, type StateStore } from '../stores'
import { isStoreUnavailable, StoreFailureReporter } from '../stores/store-failure'

/** Options of {@link hybridSessionStage}. */
export interface HybridSessionStageOptions {
  /** The keyring holding the hybrid agreement keys: the one given to the proxy as `keys`. */
  keyring: Keyring
  /**
   * Where sessions' request counts live (never keys). Give the proxy's Redis store so the count
   * holds across instances.
   * @default an in-process MemoryStateStore
   */
  store?: StateStore
  /**
   * How long a session lives from its handshake, in milliseconds.
   * @default 3600000 (1 hour)
   */
  ttlMs?: number
  /**
   * Requests one session may carry.
   * @default 10000
   */
  maxRequests?: number
  /**
   * Accepted clock skew of a handshake's timestamp, in milliseconds (the proxy's replay window).
   * @default 300000
   */
  replayWindowMs?: number
  /**
   * Time source of the count's expiry.
   * @default systemClock
   */
  clock?: Clock
  /**
   * Content-free lines when the store fails.
   * @default silentLogger
   */
  logger?: Logger
}

/** The bounds of a handshake body: a 1088-byte ciphertext and a 32-byte key, in base64url, fit easily. */
const HANDSHAKE_BODY = { limit: 8192, maxDepth: 2, idleTimeoutMs: 15_000, totalTimeoutMs: 30_000 }

function positive(value: number | undefined, fallback: number, name: string, max = Number.MAX_SAFE_INTEGER) {
  const resolved = value ?? fallback
  if (!Number.isSafeInteger(resolved) || resolved < 1 || resolved > max) {
    throw new ContinuumError(
      'CONTINUUM_INVALID_OPTIONS',
      `hybridSessionStage: ${name} must be a positive integer`,
    )
  }
  return resolved
}

function pathOf(request: CoreRequest): string {
  const query = request.url.indexOf('?')
  return query === -1 ? request.url : request.url.slice(0, query)
}

/** Creates the stage; pass it in the proxy's `stages` beside the keyring in `keys`. */
export function hybridSessionStage(options: HybridSessionStageOptions): ProxyStage {
  if (!hasBrand(options?.keyring, 'Keyring')) {
    throw new ContinuumError('CONTINUUM_INVALID_OPTIONS', 'hybridSessionStage: keyring must be a Keyring')
  }
  const keyring = options.keyring
  const policy: SessionPolicy = {
    ttlMs: positive(options.ttlMs, 3_600_000, 'ttlMs'),
    // The ticket holds the count in 32 bits.
    maxRequests: positive(options.maxRequests, 10_000, 'maxRequests', 0xffff_ffff),
    windowMs: positive(options.replayWindowMs, 300_000, 'replayWindowMs'),
  }
  const store = options.store ?? new MemoryStateStore()
  const clock = options.clock ?? systemClock
  const failures = new StoreFailureReporter('agreement-session', options.logger ?? silentLogger, clock)

  const handler: CoreHandler = async (request) => {
    if (pathOf(request) !== SESSION_PATH) return undefined
    if (request.method !== 'POST') {
      throw new ContinuumError('CONTINUUM_METHOD_NOT_ALLOWED', 'The handshake is a POST', {
        details: { allowed: ['POST'] },
      })
    }
    const answer = keyring.handshake((await readJsonBody(request, HANDSHAKE_BODY)).value, policy)
    const response: CoreResponse = {
      status: answer.status,
      headers: {
        'content-type': 'application/json',
        'cache-control': 'no-store',
        [HEADERS.encrypted]: '0',
      },
      body: JSON.stringify(answer.body),
    }
    return response
  }

  return {
    name: 'hybrid-sessions',
    handler,
    async wrapAccepted(exchange, next) {
      const ticket = exchange.request.headers[HEADERS.ephemeralKey]
      const session =
        exchange.encrypted && exchange.keyId !== undefined && ticket !== undefined
          ? keyring.session(exchange.keyId, ticket)
          : undefined
      if (session === undefined) return next()
      // The count outlives the session by the replay window, so a late request still finds it.
      const ttlMs = Math.max(1, session.expiresAt - clock.now() + policy.windowMs)
      let accepted: boolean
      try {
        const charge = { key: `session:${session.sessionId}`, amount: 1, limit: session.maxRequests }
        accepted = (await store.chargeWithin([charge], ttlMs)).accepted
      } catch (error) {
        // A bound nobody can check is not a bound: refuse, as the replay memory does.
        if (isStoreUnavailable(error)) failures.report(error, 'closed')
        throw error
      }
      if (!accepted) {
        throw new ContinuumError(
          'CONTINUUM_KEY_RETIRED',
          'The agreement session used up its requests; agree a new one and retry',
          { details: { keyId: exchange.keyId, session: 'exhausted' } },
        )
      }
      return next()
    },
  }
}
