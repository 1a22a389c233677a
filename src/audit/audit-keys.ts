/**
 * Ed25519 keys for signing and verifying audit records, via node:crypto only. Keys are accepted in
 * the two forms operators keep them in: PEM (PKCS#8 private, SPKI public) or the raw 32 bytes in
 * base64 (the private seed or the public point), which is what other languages' Ed25519 libraries
 * print. Errors name the expected form but never echo the value, so a mistyped secret does not end
 * up in a log.
 */
import {
  createHash,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  type KeyObject,
} from 'node:crypto'
import { ContinuumError } from '../errors'

// DER prefixes that turn a raw 32-byte Ed25519 seed or public point into PKCS#8 / SPKI (RFC 8410).
const PKCS8_ED25519_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex')
const SPKI_ED25519_PREFIX = Buffer.from('302a300506032b6570032100', 'hex')
const BASE64 = /^[A-Za-z0-9+/_-]+={0,2}$/

/** A freshly generated signing key pair in every form the library and CLI accept. */
export interface AuditKeyPair {
  /** PKCS#8 PEM of the private key: keep it secret. */
  readonly privateKeyPem: string
  /** The raw 32-byte private seed, base64: keep it secret. */
  readonly privateKeySeed: string
  /** SPKI PEM of the public key, for `--public-key`. */
  readonly publicKeyPem: string
  /** The raw 32-byte public key, base64, for `--public-key`. */
  readonly publicKeyRaw: string
  /** The key id written into every record signed with this key. */
  readonly keyId: string
}

/** A private or public key as accepted by the audit API: PEM, base64 raw bytes, or a KeyObject. */
export type AuditKeyInput = string | KeyObject

/**
 * Generates an Ed25519 key pair for the audit log.
 * @example
 * const keys = generateAuditKeyPair()
 * const audit = new AuditLog({ sink, privateKey: keys.privateKeyPem })
 */
export function generateAuditKeyPair(): AuditKeyPair {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519')
  const raw = rawPublicKey(publicKey)
  return {
    privateKeyPem: privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(),
    privateKeySeed: privateKey.export({ format: 'der', type: 'pkcs8' }).subarray(-32).toString('base64'),
    publicKeyPem: publicKey.export({ format: 'pem', type: 'spki' }).toString(),
    publicKeyRaw: raw.toString('base64'),
    keyId: keyIdOf(raw),
  }
}

/** Parses an Ed25519 private key from PKCS#8 PEM, a base64 32-byte seed, or a KeyObject. */
export function parseAuditPrivateKey(input: AuditKeyInput): KeyObject {
  let key: KeyObject
  if (typeof input !== 'string') {
    key = input
  } else if (input.includes('-----BEGIN')) {
    key = attempt(() => createPrivateKey(input), 'private')
  } else {
    const seed = decodeRaw(input, 'private')
    key = attempt(
      () =>
        createPrivateKey({ key: Buffer.concat([PKCS8_ED25519_PREFIX, seed]), format: 'der', type: 'pkcs8' }),
      'private',
    )
  }
  if (key.type !== 'private' || key.asymmetricKeyType !== 'ed25519') throw invalidKey('private')
  return key
}

/** Parses an Ed25519 public key from SPKI PEM, a base64 32-byte point, or a KeyObject (a private key yields its public half). */
export function parseAuditPublicKey(input: AuditKeyInput): KeyObject {
  let key: KeyObject
  if (typeof input !== 'string') {
    key = input.type === 'private' ? createPublicKey(input) : input
  } else if (input.includes('-----BEGIN')) {
    key = attempt(() => createPublicKey(input), 'public')
  } else {
    const point = decodeRaw(input, 'public')
    key = attempt(
      () =>
        createPublicKey({ key: Buffer.concat([SPKI_ED25519_PREFIX, point]), format: 'der', type: 'spki' }),
      'public',
    )
  }
  if (key.type !== 'public' || key.asymmetricKeyType !== 'ed25519') throw invalidKey('public')
  return key
}

/** The key id of a public key: the first 8 bytes of SHA-256 over its raw 32 bytes, in hex. */
export function auditKeyId(publicKey: KeyObject): string {
  return keyIdOf(rawPublicKey(publicKey.type === 'private' ? createPublicKey(publicKey) : publicKey))
}

function rawPublicKey(publicKey: KeyObject): Buffer {
  return publicKey.export({ format: 'der', type: 'spki' }).subarray(SPKI_ED25519_PREFIX.length)
}

function keyIdOf(raw: Uint8Array): string {
  return createHash('sha256').update(raw).digest('hex').slice(0, 16)
}

function decodeRaw(text: string, kind: 'private' | 'public'): Buffer {
  const trimmed = text.trim()
  if (!BASE64.test(trimmed)) throw invalidKey(kind)
  const bytes = Buffer.from(trimmed, trimmed.includes('-') || trimmed.includes('_') ? 'base64url' : 'base64')
  if (bytes.length !== 32) throw invalidKey(kind)
  return bytes
}

function attempt(build: () => KeyObject, kind: 'private' | 'public'): KeyObject {
  try {
    return build()
  } catch (error) {
    throw invalidKey(kind, error)
  }
}

function invalidKey(kind: 'private' | 'public', cause?: unknown): ContinuumError {
  const form = kind === 'private' ? 'PKCS#8 PEM or a base64 32-byte seed' : 'SPKI PEM or base64 32 raw bytes'
  // The cause from node:crypto never contains key bytes, but it is kept off the message anyway.
  return new ContinuumError(
    'CONTINUUM_AUDIT_KEY_INVALID',
    `The audit ${kind} key is not an Ed25519 key (${form})`,
    {
      cause,
    },
  )
}
