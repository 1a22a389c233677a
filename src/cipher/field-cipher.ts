/**
 * AES-256-GCM encryption of one JSON value into a field ciphertext string, and the HMAC seal over
 * a whole message. The authenticated data binds format version, key id, request nonce, direction,
 * sequence number and the field's JSON Pointer, so a ciphertext moved to another field, request,
 * direction or stream position fails to decrypt.
 */
import {
  createCipheriv,
  createDecipheriv,
  createHmac,
  createSecretKey,
  type KeyObject,
  timingSafeEqual,
} from 'node:crypto'
import { ContinuumError } from '../errors'
import { canonicalJson, isCanonicalStringText } from '../internal/canonical-json'
import type { FieldKey } from './field-key'
import { CIPHERTEXT_PREFIX, FORMAT_VERSION, IV_LENGTH, parseCiphertext, TAG_LENGTH } from './format'
import { randomView } from './random-pool'

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

const GCM = { authTagLength: TAG_LENGTH } as const
/** The AES key of each field key as a KeyObject, made once: node:crypto sets a cipher up faster from one. */
const aesKeys = new WeakMap<FieldKey, KeyObject>()

/** The KeyObject of a field key's AES key (cached per field key). */
export function aesKeyOf(key: FieldKey): KeyObject {
  let object = aesKeys.get(key)
  if (object === undefined) {
    object = createSecretKey(key.aesKey)
    aesKeys.set(key, object)
  }
  return object
}

/**
 * AES-256-GCM of `plaintext` under `aad`: `iv || ciphertext || tag`. The one place the cipher
 * runs (fields and stream batches alike), so another crypto backend replaces it here.
 */
export function sealBytes(key: FieldKey, aad: Buffer, plaintext: string | Uint8Array, iv?: Buffer): Buffer {
  const nonce = iv ?? randomView(IV_LENGTH)
  const cipher = createCipheriv('aes-256-gcm', aesKeyOf(key), nonce, GCM)
  cipher.setAAD(aad)
  const body = typeof plaintext === 'string' ? cipher.update(plaintext, 'utf8') : cipher.update(plaintext)
  cipher.final()
  const payload = Buffer.allocUnsafe(IV_LENGTH + body.length + TAG_LENGTH)
  payload.set(nonce, 0)
  payload.set(body, IV_LENGTH)
  payload.set(cipher.getAuthTag(), IV_LENGTH + body.length)
  return payload
}

/** Opens `iv || ciphertext || tag` under `aad`; throws (the caller names the failure) when it does not authenticate. */
export function openBytes(key: FieldKey, aad: Buffer, payload: Buffer): Buffer {
  const decipher = createDecipheriv('aes-256-gcm', aesKeyOf(key), payload.subarray(0, IV_LENGTH), GCM)
  decipher.setAAD(aad)
  decipher.setAuthTag(payload.subarray(payload.length - TAG_LENGTH))
  const body = decipher.update(payload.subarray(IV_LENGTH, payload.length - TAG_LENGTH))
  decipher.final()
  return body
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
  iv?: Buffer,
): string {
  let plaintext: string
  try {
    plaintext = canonicalJson(value)
  } catch (error) {
    throw nonCanonical(path, error)
  }
  const payload = sealBytes(context.key, fieldAad(context, sequence, path), plaintext, iv)
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
  let text: string
  try {
    text = openBytes(context.key, fieldAad(context, sequence, path), parsed.payload).toString('utf8')
  } catch (error) {
    throw decryptionFailed(path, error)
  }
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch {
    // No cause: V8's SyntaxError quotes the decrypted text around where it stopped.
    throw decryptionFailed(path)
  }
  // A plaintext must be the RFC 8785 form of its value: then what the receiver acts on is byte for
  // byte what the sender encrypted (no duplicate members, no 1e400 turning into Infinity).
  if (isCanonicalStringText(text, value)) return value
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

/** The seal input before the body: `cp2|keyId|nonce|direction|sequence|kind|<UTF-8 length of meta>:<meta>|`. */
function sealPrefix(context: CipherContext, sequence: number, kind: SealKind, meta: string): string {
  return `${FORMAT_VERSION}|${context.key.id}|${context.nonce}|${context.direction}|${sequence}|${kind}|${Buffer.byteLength(meta)}:${meta}|`
}

/** HMAC-SHA256 of the seal input whose body part is `canonicalBody`, the one place the MAC runs. */
function sealDigest(
  context: CipherContext,
  sequence: number,
  kind: SealKind,
  meta: string,
  canonicalBody: string | Uint8Array,
): Buffer {
  const hmac = createHmac('sha256', context.key.sealKey).update(
    sealPrefix(context, sequence, kind, meta),
    'utf8',
  )
  return (
    typeof canonicalBody === 'string' ? hmac.update(canonicalBody, 'utf8') : hmac.update(canonicalBody)
  ).digest()
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
  return sealDigest(context, sequence, kind, meta, canonicalJson(body)).toString('base64url')
}

/**
 * The seal of a message whose body is already in its canonical form (`canonicalJson(body)`, or
 * the bytes of it as received): the same value as {@link computeSeal}, without serialising again.
 */
export function computeSealOfText(
  context: CipherContext,
  sequence: number,
  kind: SealKind,
  meta: string,
  canonicalBody: string | Uint8Array,
): string {
  return sealDigest(context, sequence, kind, meta, canonicalBody).toString('base64url')
}

function sameSeal(expected: Buffer, seal: string | undefined): boolean {
  if (seal === undefined || seal.length !== 43) return false
  const given = Buffer.from(seal, 'base64url')
  return given.length === expected.length && timingSafeEqual(given, expected)
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
  return sameSeal(sealDigest(context, sequence, kind, meta, canonicalJson(body)), seal)
}

/**
 * Whether a seal matches a body given as text that may be its canonical form (the bytes as
 * received). A match proves the text is exactly what the sealer serialised, since a sealer only
 * ever MACs canonical text; a mismatch proves nothing (the sender may have written another
 * spelling), so the caller falls back to {@link sealMatches} on the parsed value.
 */
export function sealMatchesText(
  context: CipherContext,
  sequence: number,
  kind: SealKind,
  meta: string,
  text: string | Uint8Array,
  seal: string | undefined,
): boolean {
  if (seal === undefined || seal.length !== 43) return false
  return sameSeal(sealDigest(context, sequence, kind, meta, text), seal)
}
