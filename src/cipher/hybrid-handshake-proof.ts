/**
 * The second half of a hybrid handshake (docs/PROTOCOL.md §1.3), once the keyring found the
 * hybrid key the body names: decapsulate, check the client's proof, and answer with a session
 * ticket or the key's retirement notice, proven under the derived key. It is loaded with the rest
 * of the hybrid code (hybrid-support.ts); the first half, which checks the body's shape, runs on
 * every keyring (hybrid-handshake.ts).
 */
import { ContinuumError, toContinuumError } from '../errors'
import { clientProofMatches, decapsulateHybrid, serverProof } from './hybrid-agreement'
import type { HandshakeAnswer, HybridHandshakeKey, SessionPolicy } from './hybrid-handshake'
import { SESSION_ID_LENGTH, sealTicket } from './session-ticket'

/** A handshake whose shape was checked, and the hybrid key it names. */
export interface CheckedHandshake {
  readonly keyId: string
  readonly publicKey: string
  readonly cipherText: Buffer
  readonly timestamp: number
  readonly proof: unknown
  readonly policy: SessionPolicy
  readonly now: number
  readonly key: HybridHandshakeKey
}

/** Decapsulates and answers a checked handshake; throws (unproven) when the client's proof fails. */
export function proveHandshake(handshake: CheckedHandshake): HandshakeAnswer {
  const { keyId, key, timestamp, policy, now } = handshake
  const secrets = decapsulateHybrid(keyId, key.pair, handshake.publicKey, handshake.cipherText)
  // A wrong ciphertext decapsulates to another secret (implicit rejection), caught here.
  if (!clientProofMatches(secrets.confirmKey, keyId, timestamp, handshake.proof)) {
    throw new ContinuumError('CONTINUUM_KEY_AGREEMENT_FAILED', 'The handshake proof does not verify')
  }
  const prove = (status: number, answer: Record<string, unknown>): HandshakeAnswer => ({
    status,
    body: { ...answer, proof: serverProof(secrets.confirmKey, status, answer) },
  })
  if (key.state === 'retired') {
    // The keyring's CONTINUUM_KEY_RETIRED, successor included, proven like a sealed notice.
    const error = toContinuumError(key.error)
    return prove(error.status, error.toJSON())
  }
  // From the earlier of the two clocks, so a timestamp in the future cannot stretch the session.
  const expiresAt = Math.min(Math.min(timestamp, now) + policy.ttlMs, key.acceptUntil)
  const ticket = sealTicket(key.ticketKey, {
    sessionId: secrets.transcript.subarray(0, SESSION_ID_LENGTH).toString('base64url'),
    expiresAt,
    maxRequests: policy.maxRequests,
    key: secrets.fieldKey,
  })
  return prove(200, { keyId, session: ticket, expiresAt, maxRequests: policy.maxRequests })
}
