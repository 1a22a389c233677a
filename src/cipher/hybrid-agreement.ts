/**
 * The hybrid agreement X25519MLKEM768-HKDF-SHA256 (docs/PROTOCOL.md §1.2), in the spirit of the
 * X25519MLKEM768 TLS group: the client sends an ephemeral X25519 key and an ML-KEM-768 (FIPS 203)
 * encapsulation to the server's static keys, and both sides derive the session's field key with
 * HKDF-SHA256 over both shared secrets, salted with a hash of every public input (both server
 * keys, the ciphertext, the ephemeral key). The key is safe while either primitive holds: a
 * quantum computer that breaks X25519 still faces ML-KEM, and a flaw in the young ML-KEM still
 * faces X25519. ML-KEM itself comes from `@noble/post-quantum`, passed in by the caller once it
 * is loaded; nothing here is hand-rolled beyond the combiner.
 */
import { createHash, createHmac, hkdfSync, timingSafeEqual } from 'node:crypto'
import { ContinuumError } from '../errors'
import { canonicalJson } from '../internal/canonical-json'
import type { MlKem } from '../internal/post-quantum'
import { createFieldKey, type FieldKey } from './field-key'
import { classicalFlagOf } from './format'
import { exactBase64url, ML_KEM_768 } from './hybrid-encoding'
import { hybridFingerprint } from './hybrid-fingerprint'
import {
  type AgreementKeyPair,
  HYBRID_AGREEMENT,
  importPublicKey,
  loadAgreementPrivateKey,
  type PublishedHybridKey,
  x25519Secret,
} from './key-agreement'

/** Bytes of a hybrid private key: one seed, expanded into both key pairs. */
export const HYBRID_SEED_LENGTH = 32

const FIELD_KEY_INFO = 'continuum-proxy cp2 hybrid field key|'
const CONFIRM_KEY_INFO = 'continuum-proxy cp2 hybrid confirm key|'

/** A server's hybrid key pair, expanded from its seed. */
export interface HybridKeyPair {
  readonly x25519: AgreementKeyPair
  readonly mlKemPublicKey: Uint8Array
  readonly mlKemSecretKey: Uint8Array
  /** The ML-KEM parameter set the pair was made with (decapsulation needs it). */
  readonly mlKem: MlKem
}

/** What the client and the server both derive from one handshake. */
export interface HybridSecrets {
  /** The session's field key, named by the server key id. */
  readonly fieldKey: FieldKey
  /** The HMAC key of the handshake proofs (§1.3). */
  readonly confirmKey: Buffer
  /** SHA-256 of the public inputs: the HKDF salt, whose first 16 bytes name the session. */
  readonly transcript: Buffer
}

function agreementFailed(message: string, cause?: unknown): ContinuumError {
  return new ContinuumError('CONTINUUM_KEY_AGREEMENT_FAILED', message, cause === undefined ? {} : { cause })
}

/**
 * Expands a 32-byte seed into the server's key pairs: SHAKE256(seed, 96 bytes) gives the ML-KEM-768
 * key generation seed (d || z, 64 bytes) and then the X25519 private scalar (32 bytes), as X-Wing does.
 */
export function expandHybridSeed(seed: Uint8Array, mlKem: MlKem): HybridKeyPair {
  if (seed.length !== HYBRID_SEED_LENGTH) {
    throw new ContinuumError('CONTINUUM_INVALID_OPTIONS', 'hybrid agreement key: the seed is 32 bytes')
  }
  const expanded = createHash('shake256', { outputLength: 96 }).update(seed).digest()
  const { publicKey, secretKey } = mlKem.keygen(expanded.subarray(0, ML_KEM_768.seed))
  return {
    x25519: loadAgreementPrivateKey(expanded.subarray(64).toString('base64url')),
    mlKemPublicKey: publicKey,
    mlKemSecretKey: secretKey,
    mlKem,
  }
}

/** The document a server publishes for its hybrid key. */
export function publishHybridKey(keyId: string, pair: HybridKeyPair, classical: boolean): PublishedHybridKey {
  return {
    keyId,
    algorithm: HYBRID_AGREEMENT,
    publicKey: pair.x25519.publicKeyBytes.toString('base64url'),
    mlKemPublicKey: Buffer.from(pair.mlKemPublicKey).toString('base64url'),
    fingerprint: hybridFingerprint(pair.mlKemPublicKey, pair.x25519.publicKeyBytes, classical),
    classical,
  }
}

/**
 * The combiner: HKDF-SHA256 over ssMlKem || ssX25519, salted with SHA-256(mlKemPublicKey ||
 * serverX25519Public || cipherText || clientX25519Public), one expansion for the field key and one
 * for the confirmation key, each naming the server key id.
 */
export function combineHybrid(
  keyId: string,
  mlKemSecret: Uint8Array,
  x25519Shared: Uint8Array,
  publics: {
    mlKemPublicKey: Uint8Array
    serverPublic: Uint8Array
    cipherText: Uint8Array
    clientPublic: Uint8Array
  },
): HybridSecrets {
  const transcript = createHash('sha256')
    .update(publics.mlKemPublicKey)
    .update(publics.serverPublic)
    .update(publics.cipherText)
    .update(publics.clientPublic)
    .digest()
  const ikm = Buffer.concat([mlKemSecret, x25519Shared])
  const derive = (info: string) => Buffer.from(hkdfSync('sha256', ikm, transcript, info + keyId, 32))
  return {
    fieldKey: createFieldKey(keyId, derive(FIELD_KEY_INFO)),
    confirmKey: derive(CONFIRM_KEY_INFO),
    transcript,
  }
}

/** A parsed, fingerprint-checked hybrid key document, as a client holds it. */
export interface HybridServerKey {
  readonly keyId: string
  readonly x25519: ReturnType<typeof importPublicKey>
  readonly mlKemPublicKey: Buffer
  readonly fingerprint: string
}

/**
 * Parses the published fields of a hybrid key, its `classical` flag included (the fingerprint
 * covers it); the caller compares `fingerprint` with its pin.
 */
export function parseHybridKey(published: Record<string, unknown>, keyId: string): HybridServerKey {
  const x25519 = importPublicKey(String(published.publicKey))
  const mlKemPublicKey = exactBase64url(published.mlKemPublicKey, ML_KEM_768.publicKey, 'mlKemPublicKey')
  const fingerprint = hybridFingerprint(mlKemPublicKey, x25519.bytes, classicalFlagOf(published))
  if (published.fingerprint !== fingerprint) {
    throw new ContinuumError(
      'CONTINUUM_SERVER_KEY_MISMATCH',
      'The published fingerprint is not the hash of the published keys and classical flag',
    )
  }
  return { keyId, x25519, mlKemPublicKey, fingerprint }
}

/** The client's half: an ephemeral X25519 key and an ML-KEM encapsulation to the server's keys. */
export interface HybridEncapsulation {
  readonly clientPublic: Buffer
  readonly cipherText: Buffer
  readonly secrets: HybridSecrets
}

/**
 * Encapsulates to a server's hybrid key. `ephemeral` and `message` (32 bytes of ML-KEM
 * randomness) are fixed only by the test vectors; real calls leave them random.
 */
export function encapsulateHybrid(
  server: HybridServerKey,
  mlKem: MlKem,
  ephemeral: AgreementKeyPair,
  message?: Uint8Array,
): HybridEncapsulation {
  let encapsulated: { cipherText: Uint8Array; sharedSecret: Uint8Array }
  try {
    encapsulated = mlKem.encapsulate(server.mlKemPublicKey, message)
  } catch (error) {
    throw agreementFailed('ML-KEM encapsulation to the server key failed', error)
  }
  const cipherText = Buffer.from(encapsulated.cipherText)
  const shared = x25519Secret(ephemeral.privateKey, server.x25519.key)
  const secrets = combineHybrid(server.keyId, encapsulated.sharedSecret, shared, {
    mlKemPublicKey: server.mlKemPublicKey,
    serverPublic: server.x25519.bytes,
    cipherText,
    clientPublic: ephemeral.publicKeyBytes,
  })
  return { clientPublic: ephemeral.publicKeyBytes, cipherText, secrets }
}

/** The server's half: decapsulates and agrees, deriving what the client derived. */
export function decapsulateHybrid(
  keyId: string,
  pair: HybridKeyPair,
  clientPublic: string,
  cipherText: Uint8Array,
): HybridSecrets {
  const peer = importPublicKey(clientPublic)
  let mlKemSecret: Uint8Array
  try {
    // ML-KEM rejects implicitly: a tampered ciphertext yields an unrelated secret, not an error.
    mlKemSecret = pair.mlKem.decapsulate(cipherText, pair.mlKemSecretKey)
  } catch (error) {
    throw agreementFailed('ML-KEM decapsulation failed', error)
  }
  const shared = x25519Secret(pair.x25519.privateKey, peer.key)
  return combineHybrid(keyId, mlKemSecret, shared, {
    mlKemPublicKey: pair.mlKemPublicKey,
    serverPublic: pair.x25519.publicKeyBytes,
    cipherText,
    clientPublic: peer.bytes,
  })
}

function mac(key: Uint8Array, input: string): string {
  return createHmac('sha256', key).update(input, 'utf8').digest('base64url')
}

function macEquals(expected: string, actual: unknown): boolean {
  if (typeof actual !== 'string' || actual.length !== expected.length) return false
  return timingSafeEqual(Buffer.from(expected), Buffer.from(actual))
}

/** The client's proof of the session key over its handshake time: `cp2|session|client|keyId|timestamp`. */
export function clientProof(confirmKey: Uint8Array, keyId: string, timestamp: number): string {
  return mac(confirmKey, `cp2|session|client|${keyId}|${timestamp}`)
}

/** Whether a client proof verifies. */
export function clientProofMatches(
  confirmKey: Uint8Array,
  keyId: string,
  timestamp: number,
  proof: unknown,
): boolean {
  return macEquals(clientProof(confirmKey, keyId, timestamp), proof)
}

/** The server's proof over its answer: `cp2|session|server|status|canonical(body without proof)`. */
export function serverProof(confirmKey: Uint8Array, status: number, body: Record<string, unknown>): string {
  const { proof: _proof, ...rest } = body
  return mac(confirmKey, `cp2|session|server|${status}|${canonicalJson(rest)}`)
}

/** Whether a server answer carries a valid proof. */
export function serverProofMatches(
  confirmKey: Uint8Array,
  status: number,
  body: Record<string, unknown>,
): boolean {
  return macEquals(serverProof(confirmKey, status, body), body.proof)
}
