/**
 * Constants and small codecs of wire format `cp2` (docs/PROTOCOL.md): header names, the field
 * ciphertext string `cp2.<keyId>.<base64url(iv || ciphertext || tag)>`, key-id syntax. Kept in one
 * place so the server, the client and the docs cannot drift apart.
 */
import { ContinuumError } from '../errors'

/** Format version named by every ciphertext and request. */
export const FORMAT_VERSION = 'cp2'
/** Prefix of every field ciphertext string. */
export const CIPHERTEXT_PREFIX = `${FORMAT_VERSION}.`
/** AES-GCM IV length in bytes (96 bits, fresh per field). */
export const IV_LENGTH = 12
/** AES-GCM tag length in bytes. */
export const TAG_LENGTH = 16
/** Per-request nonce length in bytes. */
export const NONCE_LENGTH = 16

/** HTTP headers of the protocol, lower case. */
export const HEADERS = {
  /** Request: format version, `cp2`. Its presence marks a request as encrypted. */
  encryption: 'x-continuum-encryption',
  /** Request: id of the key that encrypted the fields. */
  keyId: 'x-continuum-key-id',
  /** Request: base64url of 16 random bytes, unique per request. */
  nonce: 'x-continuum-nonce',
  /** Request: Unix time in milliseconds, checked against the replay window. */
  timestamp: 'x-continuum-timestamp',
  /** Request and JSON response: HMAC seal over the plain fields (base64url). */
  seal: 'x-continuum-seal',
  /** Request: the client's ephemeral X25519 public key (base64url, 32 bytes) for key agreement. */
  ephemeralKey: 'x-continuum-ephemeral-key',
  /** Request: the sorted, comma-separated names of the headers the request seal covers. */
  sealedHeaders: 'x-continuum-sealed-headers',
  /** Response: `1` when fields are encrypted, `0` for plain bodies such as errors. */
  encrypted: 'x-continuum-encrypted',
} as const

/** Well-known path where a server publishes its X25519 agreement key. */
export const AGREEMENT_KEY_PATH = '/.well-known/continuum-key'

/** JSON key carrying a stream event's seal inside the event object. */
export const EVENT_SEAL_KEY = 'continuum_seal'
/** JSON key of the authenticated end-of-stream marker event. */
export const END_MARKER_KEY = 'continuum_end'
/** SSE event name of the end-of-stream marker. */
export const END_EVENT_NAME = 'continuum.end'

const KEY_ID_PATTERN = /^[A-Za-z0-9_-]{1,64}$/

/** Whether a key id is acceptable: 1–64 characters of `[A-Za-z0-9_-]`. */
export function isValidKeyId(keyId: string): boolean {
  return KEY_ID_PATTERN.test(keyId)
}

/** Throws CONTINUUM_INVALID_OPTIONS unless the key id is acceptable. */
export function assertKeyId(keyId: unknown, where: string): asserts keyId is string {
  if (typeof keyId !== 'string' || !isValidKeyId(keyId)) {
    throw new ContinuumError(
      'CONTINUUM_INVALID_OPTIONS',
      `${where}: key id must be 1-64 characters of [A-Za-z0-9_-]`,
    )
  }
}

/** A parsed field ciphertext string. */
export interface ParsedCiphertext {
  keyId: string
  /** iv || ciphertext || tag */
  payload: Buffer
}

/** Whether a JSON value looks like a field ciphertext (cheap prefix check). */
export function isCiphertext(value: unknown): value is string {
  return typeof value === 'string' && value.startsWith(CIPHERTEXT_PREFIX)
}

/** Parses `cp2.<keyId>.<base64url>`; throws CONTINUUM_MALFORMED_CIPHERTEXT naming only the path. */
export function parseCiphertext(value: string, path: string): ParsedCiphertext {
  if (!value.startsWith(CIPHERTEXT_PREFIX)) throw malformed(path)
  const separator = value.indexOf('.', CIPHERTEXT_PREFIX.length)
  if (separator === -1) throw malformed(path)
  const keyId = value.slice(CIPHERTEXT_PREFIX.length, separator)
  const encoded = value.slice(separator + 1)
  if (!isValidKeyId(keyId) || !/^[A-Za-z0-9_-]+$/.test(encoded)) throw malformed(path)
  const payload = Buffer.from(encoded, 'base64url')
  // One spelling per payload: unused trailing bits set would make the string malleable.
  if (payload.length < IV_LENGTH + TAG_LENGTH || payload.toString('base64url') !== encoded)
    throw malformed(path)
  return { keyId, payload }
}

function malformed(path: string): ContinuumError {
  return new ContinuumError(
    'CONTINUUM_MALFORMED_CIPHERTEXT',
    `Field ${path} is not a valid ${FORMAT_VERSION} ciphertext`,
    {
      details: { path },
    },
  )
}
