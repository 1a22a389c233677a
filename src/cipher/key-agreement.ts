/**
 * Key agreement without pre-shared keys: the server holds a static X25519 key whose public half it
 * publishes (clients pin its SHA-256 fingerprint); a client sends an ephemeral X25519 public key
 * with its requests; both sides derive the field key with HKDF-SHA256 over the shared secret.
 * The hybrid agreement (X25519 with ML-KEM-768) builds on these pieces in hybrid-agreement.ts.
 */
import {
  createHash,
  createPrivateKey,
  createPublicKey,
  diffieHellman,
  generateKeyPairSync,
  hkdfSync,
  type KeyObject,
} from 'node:crypto'
import { ContinuumError } from '../errors'
import { createFieldKey, type FieldKey } from './field-key'

/** HKDF info string for agreed field keys. */
const AGREEMENT_INFO = 'continuum-proxy cp2 field key'

/** DER prefix of a PKCS#8 X25519 private key; the raw 32-byte scalar follows it. */
const X25519_PKCS8_PREFIX = Buffer.from('302e020100300506032b656e04220420', 'hex')

/** An X25519 key pair with its raw public bytes. */
export interface AgreementKeyPair {
  readonly privateKey: KeyObject
  readonly publicKey: KeyObject
  /** Raw 32-byte public key. */
  readonly publicKeyBytes: Buffer
}

/** The classical agreement: X25519 and HKDF-SHA256. */
export const CLASSICAL_AGREEMENT = 'X25519-HKDF-SHA256'
/** The hybrid agreement: X25519 and ML-KEM-768 (FIPS 203), combined with HKDF-SHA256. */
export const HYBRID_AGREEMENT = 'X25519MLKEM768-HKDF-SHA256'

/** An agreement algorithm a server may publish. */
export type AgreementAlgorithm = typeof CLASSICAL_AGREEMENT | typeof HYBRID_AGREEMENT

/** What a server publishes at /.well-known/continuum-key for a classical key. */
export interface PublishedClassicalKey {
  keyId: string
  algorithm: typeof CLASSICAL_AGREEMENT
  /** base64url of the raw 32-byte public key. */
  publicKey: string
  /** `sha256:` and the hex SHA-256 of the raw public key; clients pin this. */
  fingerprint: string
}

/** What a server publishes for a hybrid key (docs/PROTOCOL.md §1.2). */
export interface PublishedHybridKey {
  keyId: string
  algorithm: typeof HYBRID_AGREEMENT
  /** base64url of the raw 32-byte X25519 public key. */
  publicKey: string
  /** base64url of the 1184-byte ML-KEM-768 encapsulation key. */
  mlKemPublicKey: string
  /**
   * `sha256:` and the hex SHA-256 of mlKemPublicKey || publicKey (raw bytes), with
   * `continuum-proxy cp2 classical` appended when `classical` is true: one pin for both keys and
   * for whether classical agreement is allowed (see hybridFingerprint).
   */
  fingerprint: string
  /** Whether the server also agrees classical X25519 keys under this key id; the fingerprint covers it. */
  classical: boolean
}

/** What a server publishes at /.well-known/continuum-key. */
export type PublishedAgreementKey = PublishedClassicalKey | PublishedHybridKey

/** Generates a fresh X25519 key pair. */
export function generateAgreementKeyPair(): AgreementKeyPair {
  const { privateKey, publicKey } = generateKeyPairSync('x25519')
  return { privateKey, publicKey, publicKeyBytes: rawPublicKey(publicKey) }
}

/** Loads an X25519 private key from PEM, or from the base64url raw 32-byte scalar. */
export function loadAgreementPrivateKey(material: KeyObject | string): AgreementKeyPair {
  let privateKey: KeyObject
  try {
    if (typeof material !== 'string') privateKey = material
    else if (material.includes('-----BEGIN')) privateKey = createPrivateKey(material)
    else {
      const scalar = Buffer.from(material.trim(), 'base64url')
      if (scalar.length !== 32) throw new Error('an X25519 private key is 32 bytes')
      privateKey = createPrivateKey({
        key: Buffer.concat([X25519_PKCS8_PREFIX, scalar]),
        format: 'der',
        type: 'pkcs8',
      })
    }
  } catch (error) {
    throw new ContinuumError('CONTINUUM_INVALID_OPTIONS', 'agreement key: not an X25519 private key', {
      cause: error,
    })
  }
  if (privateKey.asymmetricKeyType !== 'x25519') {
    throw new ContinuumError('CONTINUUM_INVALID_OPTIONS', 'agreement key: not an X25519 private key')
  }
  const publicKey = createPublicKey(privateKey)
  return { privateKey, publicKey, publicKeyBytes: rawPublicKey(publicKey) }
}

/** The raw 32 bytes of an X25519 public key. */
export function rawPublicKey(publicKey: KeyObject): Buffer {
  const jwk = publicKey.export({ format: 'jwk' })
  return Buffer.from(jwk.x ?? '', 'base64url')
}

/** Imports a raw 32-byte X25519 public key (base64url), throwing CONTINUUM_KEY_AGREEMENT_FAILED on bad input. */
export function importPublicKey(encoded: string): { key: KeyObject; bytes: Buffer } {
  const bytes = Buffer.from(encoded, 'base64url')
  if (bytes.length !== 32 || !/^[A-Za-z0-9_-]{43}$/.test(encoded)) {
    throw new ContinuumError('CONTINUUM_KEY_AGREEMENT_FAILED', 'Ephemeral key must be 32 bytes of base64url')
  }
  try {
    const key = createPublicKey({ key: { kty: 'OKP', crv: 'X25519', x: encoded }, format: 'jwk' })
    return { key, bytes }
  } catch (error) {
    throw new ContinuumError('CONTINUUM_KEY_AGREEMENT_FAILED', 'Ephemeral key is not an X25519 public key', {
      cause: error,
    })
  }
}

/** The pinning fingerprint of a raw public key. */
export function fingerprint(publicKeyBytes: Uint8Array): string {
  return `sha256:${createHash('sha256').update(publicKeyBytes).digest('hex')}`
}

/** X25519(own private, peer public), refusing the all-zero secret of a small-order peer key. */
export function x25519Secret(ownPrivateKey: KeyObject, peerPublicKey: KeyObject): Buffer {
  let shared: Buffer
  try {
    shared = diffieHellman({ privateKey: ownPrivateKey, publicKey: peerPublicKey })
  } catch (error) {
    throw new ContinuumError('CONTINUUM_KEY_AGREEMENT_FAILED', 'X25519 agreement failed', { cause: error })
  }
  // An all-zero secret means a small-order peer key: refuse it rather than derive a guessable key.
  if (shared.every((byte) => byte === 0)) {
    throw new ContinuumError('CONTINUUM_KEY_AGREEMENT_FAILED', 'X25519 agreement produced a weak secret')
  }
  return shared
}

/**
 * Derives the field key both sides share: HKDF-SHA256(ikm = X25519(own private, peer public),
 * salt = clientPublic || serverPublic, info = "continuum-proxy cp2 field key", 32 bytes).
 */
export function deriveAgreedKey(
  keyId: string,
  ownPrivateKey: KeyObject,
  peerPublicKey: KeyObject,
  clientPublicBytes: Uint8Array,
  serverPublicBytes: Uint8Array,
): FieldKey {
  const shared = x25519Secret(ownPrivateKey, peerPublicKey)
  const salt = Buffer.concat([clientPublicBytes, serverPublicBytes])
  const material = Buffer.from(hkdfSync('sha256', shared, salt, AGREEMENT_INFO, 32))
  return createFieldKey(keyId, material)
}
