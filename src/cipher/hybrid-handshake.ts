/**
 * The server side of the hybrid handshake (docs/PROTOCOL.md §1.3): one POST carries the client's
 * ephemeral X25519 key, its ML-KEM-768 ciphertext, a timestamp and a proof that it holds the
 * derived key; the answer carries the session ticket and the session's bounds, proven under the
 * same key, so a relay can neither swap the ticket nor stretch the bounds unnoticed. The session
 * id is the start of the transcript hash, so a replayed handshake names the same session (same
 * id, same end, one shared request count) instead of opening a fresh one.
 *
 * This file checks the body's shape, on any keyring; the key the body names brings the proving
 * half (hybrid-handshake-proof.ts), loaded with the hybrid key, so a keyring without one never
 * loads the agreement's code.
 */
import { ContinuumError } from '../errors'
import { isValidKeyId } from './format'
import type { HybridKeyPair } from './hybrid-agreement'
import { exactBase64url, ML_KEM_768 } from './hybrid-encoding'
import type { proveHandshake } from './hybrid-handshake-proof'

/** Where a client posts its handshake, under the proxy's mount point. */
export const SESSION_PATH = '/.well-known/continuum-session'

/** How long sessions live and how much they carry; set by the hybrid session stage. */
export interface SessionPolicy {
  /** Session lifetime from the handshake's timestamp, in milliseconds. */
  readonly ttlMs: number
  /** Requests one session may carry. */
  readonly maxRequests: number
  /** Accepted clock skew of the handshake's timestamp, in milliseconds. */
  readonly windowMs: number
}

/** A handshake answer: status and JSON body, its `proof` included. */
export interface HandshakeAnswer {
  readonly status: number
  readonly body: Record<string, unknown>
}

/** A hybrid key a handshake names, with the proving half loaded with it. */
export type HybridHandshakeKey =
  | {
      state: 'active'
      pair: HybridKeyPair
      ticketKey: Buffer
      acceptUntil: number
      prove: typeof proveHandshake
    }
  | { state: 'retired'; pair: HybridKeyPair; ticketKey: Buffer; error: unknown; prove: typeof proveHandshake }

/** What the keyring knows of the key a handshake names. */
export type HandshakeKey = HybridHandshakeKey | { state: 'not-hybrid' }

function refused(message: string): ContinuumError {
  return new ContinuumError('CONTINUUM_KEY_AGREEMENT_FAILED', message)
}

/** Checks and answers one handshake body; `lookup` throws for unknown and forgotten keys. */
export function answerHandshake(
  body: unknown,
  policy: SessionPolicy,
  now: number,
  lookup: (keyId: string) => HandshakeKey,
): HandshakeAnswer {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw refused('A handshake is a JSON object')
  }
  const input = body as Record<string, unknown>
  const { keyId, publicKey, timestamp, proof } = input
  if (typeof keyId !== 'string' || !isValidKeyId(keyId)) throw refused('The handshake names no valid keyId')
  if (typeof publicKey !== 'string') throw refused('The handshake carries no publicKey')
  const cipherText = exactBase64url(input.cipherText, ML_KEM_768.cipherText, 'cipherText')
  if (typeof timestamp !== 'number' || !Number.isSafeInteger(timestamp) || timestamp < 0) {
    throw refused('The handshake timestamp must be Unix milliseconds')
  }
  if (Math.abs(now - timestamp) > policy.windowMs) {
    throw new ContinuumError(
      'CONTINUUM_TIMESTAMP_OUT_OF_WINDOW',
      'The handshake timestamp is outside the replay window',
    )
  }
  const key = lookup(keyId)
  if (key.state === 'not-hybrid') throw refused(`Key "${keyId}" is not a hybrid agreement key`)
  return key.prove({ keyId, publicKey, cipherText, timestamp, proof, policy, now, key })
}
