/**
 * The client side of the hybrid handshake (docs/PROTOCOL.md §1.3): encapsulate to the server's
 * published X25519 and ML-KEM-768 keys, post the encapsulation with a proof of the derived key,
 * and believe the answer only when the server's proof verifies under that key (so a relay can
 * neither swap the ticket nor change the bounds). The session then names its key with the ticket
 * and is used until its request count or its lifetime runs out, renewed a little before.
 */

import type { FieldKey } from '../cipher/field-key'
import {
  clientProof,
  encapsulateHybrid,
  type HybridServerKey,
  parseHybridKey,
  serverProofMatches,
} from '../cipher/hybrid-agreement'
import { SESSION_PATH } from '../cipher/hybrid-handshake'
import { generateAgreementKeyPair } from '../cipher/key-agreement'
import { looksLikeTicket } from '../cipher/session-ticket'
import type { Clock } from '../core/clock'
import { ContinuumError } from '../errors'
import { loadMlKem768, type MlKem } from '../internal/post-quantum'
import { MAX_KEY_DOCUMENT_BYTES, readBoundedText } from './bounded-body'
import type { ResolvedKey } from './key-source'
import { defaultBackend, deriveFieldKey } from './web-crypto/index'

/** An agreed session and how much of it is left. */
export interface HybridSession {
  readonly resolved: ResolvedKey
  /** The agreed field key's bytes, as the server's cipher holds them (resolved.key is the client's handles). */
  readonly fieldKey: FieldKey
  /** The session's end, on the client's clock (the handshake carried the client's timestamp). */
  readonly expiresAt: number
  readonly maxRequests: number
  /** Renew when fewer than this many milliseconds are left. */
  readonly marginMs: number
  used: number
}

/** The handshake's outcome: a session, or a proven retirement notice naming the successor's fingerprint. */
export type HandshakeOutcome =
  | { kind: 'session'; session: HybridSession }
  | { kind: 'retired'; successor: string | undefined }

function failed(message: string, details?: Record<string, unknown>): ContinuumError {
  return new ContinuumError(
    'CONTINUUM_KEY_AGREEMENT_FAILED',
    message,
    details === undefined ? {} : { details },
  )
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

/** Agrees a session with a server key whose fingerprint the caller has already checked. */
export async function handshake(
  mountUrl: string,
  server: HybridServerKey,
  mlKem: MlKem,
  fetcher: typeof fetch,
  clock: Clock,
): Promise<HandshakeOutcome> {
  const { clientPublic, cipherText, secrets } = encapsulateHybrid(server, mlKem, generateAgreementKeyPair())
  const timestamp = clock.now()
  const response = await fetcher(`${mountUrl}${SESSION_PATH}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json' },
    body: JSON.stringify({
      keyId: server.keyId,
      publicKey: clientPublic.toString('base64url'),
      cipherText: cipherText.toString('base64url'),
      timestamp,
      proof: clientProof(secrets.confirmKey, server.keyId, timestamp),
    }),
    redirect: 'error',
  })
  const body: unknown = await readBoundedText(response, MAX_KEY_DOCUMENT_BYTES, () =>
    failed('The hybrid handshake answer is too large'),
  )
    .then((text) => JSON.parse(text) as unknown)
    .catch((error: unknown) => {
      if (ContinuumError.isInstance(error)) throw error
      return undefined
    })
  // Only an answer proven under the agreed key is the server's; anything else may be the path's.
  if (!isRecord(body) || !serverProofMatches(secrets.confirmKey, response.status, body)) {
    throw failed(`The hybrid handshake was not answered by the key's holder (HTTP ${response.status})`, {
      status: response.status,
    })
  }
  if (response.status !== 200) {
    const error = isRecord(body.error) ? body.error : {}
    if (error.code !== 'CONTINUUM_KEY_RETIRED') throw failed('The hybrid handshake was refused')
    const successor = isRecord(error.successor) ? error.successor.fingerprint : undefined
    return { kind: 'retired', successor: typeof successor === 'string' ? successor : undefined }
  }
  const { keyId, session, expiresAt, maxRequests } = body
  if (
    keyId !== server.keyId ||
    typeof session !== 'string' ||
    !looksLikeTicket(session) ||
    !Number.isSafeInteger(expiresAt) ||
    !Number.isSafeInteger(maxRequests) ||
    (maxRequests as number) < 1
  ) {
    throw failed('The hybrid handshake answer is malformed')
  }
  const lifetime = (expiresAt as number) - timestamp
  const marginMs = Math.min(30_000, Math.floor(lifetime / 10))
  if (lifetime <= 0 || clock.now() >= (expiresAt as number) - marginMs) {
    throw failed('The server granted a session that has already ended')
  }
  return {
    kind: 'session',
    session: {
      resolved: {
        key: await deriveFieldKey(defaultBackend(), server.keyId, secrets.fieldKey.aesKey),
        headers: { 'x-continuum-key-id': server.keyId, 'x-continuum-ephemeral-key': session },
      },
      fieldKey: secrets.fieldKey,
      expiresAt: expiresAt as number,
      maxRequests: maxRequests as number,
      marginMs,
      used: 0,
    },
  }
}

/**
 * Agrees a session with a published hybrid key document (its fingerprint already checked by the
 * caller over the same bytes), loading ML-KEM on first use.
 */
export async function agreeSession(
  mountUrl: string,
  published: Record<string, unknown>,
  fetcher: typeof fetch,
  clock: Clock,
): Promise<HandshakeOutcome> {
  const server = parseHybridKey(published, String(published.keyId))
  return handshake(mountUrl, server, await loadMlKem768(), fetcher, clock)
}
