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
  /** Request: `1` when the client expands batched stream frames (docs/PROTOCOL.md §6.1). */
  batch: 'x-continuum-batch',
} as const

/** Well-known path where a server publishes its X25519 agreement key. */
export const AGREEMENT_KEY_PATH = '/.well-known/continuum-key'

/**
 * Appended to the fingerprint input of a hybrid key that also agrees classically
 * (docs/PROTOCOL.md §1.2): the pin then covers that permission, so a relay that sets or clears
 * `classical` in the key document changes the fingerprint.
 */
export const CLASSICAL_FINGERPRINT_LABEL = 'continuum-proxy cp2 classical'

/**
 * The `classical` flag of a hybrid key document: absent is false, and anything but a boolean is
 * refused (CONTINUUM_KEY_AGREEMENT_FAILED), since the fingerprint is computed from it.
 */
export function classicalFlagOf(published: Record<string, unknown>): boolean {
  const flag = published.classical
  if (flag === undefined) return false
  if (typeof flag !== 'boolean') {
    throw new ContinuumError('CONTINUUM_KEY_AGREEMENT_FAILED', 'Server key has no valid classical flag')
  }
  return flag
}

/** JSON key carrying a stream event's seal inside the event object. */
export const EVENT_SEAL_KEY = 'continuum_seal'
/** JSON key of the authenticated end-of-stream marker event. */
export const END_MARKER_KEY = 'continuum_end'
/** SSE event name of the end-of-stream marker. */
export const END_EVENT_NAME = 'continuum.end'
/** JSON key of a batched stream frame's header (docs/PROTOCOL.md §6.1). */
export const BATCH_KEY = 'continuum_batch'
/** SSE event name of a batched stream frame. */
export const BATCH_EVENT_NAME = 'continuum.batch'

/**
 * The authenticated data of a batch frame (docs/PROTOCOL.md §6.1),
 * `cp2|keyId|nonce|direction|first|continuum.batch|events`: never a field's (whose last part is a
 * JSON Pointer). Written by the server's sealer and the client's opener alike.
 */
export function batchAadText(
  keyId: string,
  nonce: string,
  direction: string,
  first: number,
  events: number,
): string {
  return `${FORMAT_VERSION}|${keyId}|${nonce}|${direction}|${first}|${BATCH_EVENT_NAME}|${events}`
}

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

const BASE64URL_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'

/**
 * Whether unpadded base64url text is the one spelling of its bytes: its length is not 1 mod 4,
 * and the bits of the last character that carry no data are zero (else `...A` and `...B` would
 * decode alike, and a ciphertext would have more than one spelling).
 */
export function isCanonicalBase64url(text: string): boolean {
  const rest = text.length % 4
  if (rest === 1) return false
  if (rest === 0) return true
  const last = BASE64URL_ALPHABET.indexOf(text[text.length - 1]!)
  return (last & (rest === 2 ? 0b1111 : 0b11)) === 0
}

/** Parses `cp2.<keyId>.<base64url>`; throws CONTINUUM_MALFORMED_CIPHERTEXT naming only the path. */
export function parseCiphertext(value: string, path: string): ParsedCiphertext {
  if (!value.startsWith(CIPHERTEXT_PREFIX)) throw malformed(path)
  const separator = value.indexOf('.', CIPHERTEXT_PREFIX.length)
  if (separator === -1) throw malformed(path)
  const keyId = value.slice(CIPHERTEXT_PREFIX.length, separator)
  const encoded = value.slice(separator + 1)
  if (!isValidKeyId(keyId)) throw malformed(path)
  const payload = Buffer.from(encoded, 'base64url')
  // Node's decoder skips what is not base64 and takes `+` and `/` too; its encoder writes only
  // the base64url alphabet, unpadded, with zero spare bits. So the bytes encode back to the very
  // text exactly when it is their one base64url spelling: one encode (simdutf) in place of a
  // regular-expression pass over every character and the spare-bit check.
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
