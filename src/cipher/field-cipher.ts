/**
 * AES-256-GCM encryption of one JSON value into a field ciphertext string, and the HMAC seal over
 * a whole message. The authenticated data binds format version, key id, request nonce, direction,
 * sequence number and the field's JSON Pointer, so a ciphertext moved to another field, request,
 * direction or stream position fails to decrypt.
 */
import { createCipheriv, createDecipheriv, createHmac, timingSafeEqual } from 'node:crypto'
import { ContinuumError } from '../errors'
import { canonicalJson } from '../internal/canonical-json'
import type { FieldKey } from './field-key'
import { CIPHERTEXT_PREFIX, FORMAT_VERSION, IV_LENGTH, parseCiphertext, TAG_LENGTH } from './format'
import { randomBytesPooled } from './random-pool'

/** Which way a message travels. */
export type Direction = 'request' | 'response'

/** What binds every field of one message: the key, the request nonce and the direction. */
export interface CipherContext {
  readonly key: FieldKey
  /** base64url request nonce. */
  readonly nonce: string
  readonly direction: Direction
}

/** What a seal covers besides the body: the kind of message and its metadata. */
export type SealKind = 'request' | 'response' | 'error' | 'event' | 'end' | 'failed'

function fieldAad(context: CipherContext, sequence: number, path: string): Buffer {
  return Buffer.from(
    `${FORMAT_VERSION}|${context.key.id}|${context.nonce}|${context.direction}|${sequence}|${path}`,
    'utf8',
  )
}

/**
 * Encrypts a JSON value into `cp2.<keyId>.<base64url(iv || ciphertext || tag)>`. The plaintext is
 * the value's RFC 8785 form, so a value JSON cannot carry faithfully (Infinity, a lone surrogate)
 * is refused with CONTINUUM_NON_CANONICAL_JSON naming only the field's path.
 */
export function encryptValue(
  context: CipherContext,
  sequence: number,
  path: string,
  value: unknown,
  /** Only for the deterministic test vectors of docs/PROTOCOL.md; never pass an IV in production. */
  iv: Buffer = randomBytesPooled(IV_LENGTH),
): string {
  let plaintext: string
  try {
    plaintext = canonicalJson(value)
  } catch (error) {
    throw nonCanonical(path, error)
  }
  const cipher = createCipheriv('aes-256-gcm', context.key.aesKey, iv, { authTagLength: TAG_LENGTH })
  cipher.setAAD(fieldAad(context, sequence, path))
  const body = cipher.update(plaintext, 'utf8')
  const final = cipher.final()
  const payload = Buffer.concat([iv, body, final, cipher.getAuthTag()])
  return `${CIPHERTEXT_PREFIX}${context.key.id}.${payload.toString('base64url')}`
}

/** Decrypts a field ciphertext; every failure is CONTINUUM_DECRYPTION_FAILED naming only the path. */
export function decryptValue(
  context: CipherContext,
  sequence: number,
  path: string,
  ciphertext: string,
): unknown {
  const parsed = parseCiphertext(ciphertext, path)
  if (parsed.keyId !== context.key.id) throw decryptionFailed(path)
  const { payload } = parsed
  const decipher = createDecipheriv('aes-256-gcm', context.key.aesKey, payload.subarray(0, IV_LENGTH), {
    authTagLength: TAG_LENGTH,
  })
  decipher.setAAD(fieldAad(context, sequence, path))
  decipher.setAuthTag(payload.subarray(payload.length - TAG_LENGTH))
  let text: string
  try {
    text = decipher.update(payload.subarray(IV_LENGTH, payload.length - TAG_LENGTH), undefined, 'utf8')
    text += decipher.final('utf8')
  } catch (error) {
    throw decryptionFailed(path, error)
  }
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch (error) {
    throw decryptionFailed(path, error)
  }
  // A plaintext must be the RFC 8785 form of its value: then what the receiver acts on is byte for
  // byte what the sender encrypted (no duplicate members, no 1e400 turning into Infinity).
  let canonical: string | undefined
  try {
    canonical = canonicalJson(value)
  } catch {
    canonical = undefined
  }
  if (canonical !== text) throw nonCanonical(path)
  return value
}

function nonCanonical(path: string, cause?: unknown): ContinuumError {
  return new ContinuumError(
    'CONTINUUM_NON_CANONICAL_JSON',
    `Field ${path} does not hold a value in RFC 8785 form`,
    { details: { path }, cause },
  )
}

function decryptionFailed(path: string, cause?: unknown): ContinuumError {
  return new ContinuumError('CONTINUUM_DECRYPTION_FAILED', `Field ${path} failed to decrypt`, {
    details: { path },
    cause,
  })
}

/**
 * The seal of a message: HMAC-SHA256 under the seal key over
 * `cp2|keyId|nonce|direction|sequence|kind|<UTF-8 length of meta>:<meta>|<canonical JSON of the body as sent>`.
 * The body includes the ciphertexts, so it covers plain fields, which fields exist, and order.
 * A body RFC 8785 cannot represent is refused with CONTINUUM_NON_CANONICAL_JSON.
 */
export function computeSeal(
  context: CipherContext,
  sequence: number,
  kind: SealKind,
  meta: string,
  body: unknown,
): string {
  return createHmac('sha256', context.key.sealKey)
    .update(
      `${FORMAT_VERSION}|${context.key.id}|${context.nonce}|${context.direction}|${sequence}|${kind}|${Buffer.byteLength(meta)}:${meta}|`,
      'utf8',
    )
    .update(canonicalJson(body), 'utf8')
    .digest('base64url')
}

/** Whether a seal matches, compared in constant time. */
export function sealMatches(
  context: CipherContext,
  sequence: number,
  kind: SealKind,
  meta: string,
  body: unknown,
  seal: string | undefined,
): boolean {
  if (seal === undefined || seal.length !== 43) return false
  const expected = Buffer.from(computeSeal(context, sequence, kind, meta, body), 'base64url')
  const given = Buffer.from(seal, 'base64url')
  return given.length === expected.length && timingSafeEqual(given, expected)
}
