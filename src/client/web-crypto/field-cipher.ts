/**
 * Field encryption and seals of wire format cp2 (docs/PROTOCOL.md) for the client, on a crypto
 * backend: byte for byte what src/cipher/field-cipher.ts and field-map.ts compute on the server
 * (the shared vectors of test/fixtures/protocol-vectors.json check both), but asynchronous, and
 * the fields of one message are encrypted or decrypted concurrently.
 */

import { ContinuumError } from '../../errors'
import { canonicalJson, isCanonicalStringText } from '../../internal/canonical-json'
import type { MaybePromise } from './backend'
import { fromBase64url, fromUtf8, isAscii, pooledRandomBytes, toBase64url, utf8 } from './bytes'
import type { ClientFieldKey } from './field-key'

const FORMAT_VERSION = 'cp2'
const PREFIX = `${FORMAT_VERSION}.`
const IV_LENGTH = 12
const TAG_LENGTH = 16
const KEY_ID = /^[A-Za-z0-9_-]{1,64}$/

/** Which way a message travels. */
export type Direction = 'request' | 'response'

/** What binds every field of one message: the key, the request nonce and the direction. */
export interface ClientCipherContext {
  readonly key: ClientFieldKey
  /** base64url request nonce. */
  readonly nonce: string
  readonly direction: Direction
}

/** What a seal covers besides the body. */
export type SealKind = 'request' | 'response' | 'error' | 'event' | 'end' | 'failed'

function fieldAad(context: ClientCipherContext, sequence: number, path: string): string {
  return `${FORMAT_VERSION}|${context.key.id}|${context.nonce}|${context.direction}|${sequence}|${path}`
}

function pathError(
  code: 'CONTINUUM_DECRYPTION_FAILED' | 'CONTINUUM_MALFORMED_CIPHERTEXT' | 'CONTINUUM_NON_CANONICAL_JSON',
  path: string,
  cause?: unknown,
): ContinuumError {
  const message =
    code === 'CONTINUUM_DECRYPTION_FAILED'
      ? `Field ${path} failed to decrypt`
      : code === 'CONTINUUM_MALFORMED_CIPHERTEXT'
        ? `Field ${path} is not a valid ${FORMAT_VERSION} ciphertext`
        : `Field ${path} does not hold a value in RFC 8785 form`
  return new ContinuumError(code, message, { details: { path }, cause })
}

/** Whether a backend's answer is still to come. */
export function isPending<T>(value: MaybePromise<T>): value is Promise<T> {
  return value instanceof Promise
}

/** `next` of the answer: at once when it is there, after it when it is promised. */
function after<T, U>(value: MaybePromise<T>, next: (value: T) => U): MaybePromise<U> {
  return isPending(value) ? value.then(next) : next(value)
}

/** {@link encryptValue}, immediate on a synchronous backend; throws rather than rejects there. */
export function encryptValueNow(
  context: ClientCipherContext,
  sequence: number,
  path: string,
  value: unknown,
  iv: Uint8Array = pooledRandomBytes(IV_LENGTH),
): MaybePromise<string> {
  if (iv.length !== IV_LENGTH) throw new TypeError(`An AES-GCM IV is ${IV_LENGTH} bytes`)
  let plaintext: string
  try {
    plaintext = canonicalJson(value)
  } catch (error) {
    throw pathError('CONTINUUM_NON_CANONICAL_JSON', path, error)
  }
  const { backend, aesKey, id } = context.key
  // 12 bytes are 16 base64url characters without padding, so base64url(iv || sealed) is the two
  // encodings one after the other, and the payload is never copied together.
  const head = `${PREFIX}${id}.${toBase64url(iv)}`
  const sealed = backend.seal(aesKey, iv, fieldAad(context, sequence, path), plaintext)
  return isPending(sealed) ? sealed.then((bytes) => head + toBase64url(bytes)) : head + toBase64url(sealed)
}

/** Encrypts a JSON value into `cp2.<keyId>.<base64url(iv || ciphertext || tag)>`. */
export async function encryptValue(
  context: ClientCipherContext,
  sequence: number,
  path: string,
  value: unknown,
  /** Only for the deterministic test vectors; never pass an IV in production. */
  iv?: Uint8Array,
): Promise<string> {
  return encryptValueNow(context, sequence, path, value, iv)
}

/** The value of a decrypted plaintext, which must be its RFC 8785 form, as on the server. */
function plaintextValue(bytes: Uint8Array, path: string): unknown {
  let text: string
  let value: unknown
  try {
    text = fromUtf8(bytes)
    value = JSON.parse(text)
  } catch {
    // No cause: V8's SyntaxError quotes the decrypted text around where it stopped, and a
    // stream's errors reach the caller (and its logs) as they are.
    throw pathError('CONTINUUM_DECRYPTION_FAILED', path)
  }
  // As on the server: no dressed-up duplicate members, no 1e400 turning into Infinity.
  if (isCanonicalStringText(text, value)) return value
  let canonical: string | undefined
  try {
    canonical = canonicalJson(value)
  } catch {
    canonical = undefined
  }
  if (canonical !== text) throw pathError('CONTINUUM_NON_CANONICAL_JSON', path)
  return value
}

/** {@link decryptValue}, immediate on a synchronous backend; throws rather than rejects there. */
export function decryptValueNow(
  context: ClientCipherContext,
  sequence: number,
  path: string,
  ciphertext: string,
): MaybePromise<unknown> {
  const separator = ciphertext.indexOf('.', PREFIX.length)
  const keyId = separator === -1 ? '' : ciphertext.slice(PREFIX.length, separator)
  const payload = separator === -1 ? undefined : fromBase64url(ciphertext.slice(separator + 1))
  if (!ciphertext.startsWith(PREFIX) || !KEY_ID.test(keyId) || payload === undefined) {
    throw pathError('CONTINUUM_MALFORMED_CIPHERTEXT', path)
  }
  if (payload.length < IV_LENGTH + TAG_LENGTH) throw pathError('CONTINUUM_MALFORMED_CIPHERTEXT', path)
  if (keyId !== context.key.id) throw pathError('CONTINUUM_DECRYPTION_FAILED', path)
  const { backend, aesKey } = context.key
  let opened: MaybePromise<Uint8Array>
  try {
    opened = backend.open(aesKey, payload, fieldAad(context, sequence, path))
  } catch (error) {
    throw pathError('CONTINUUM_DECRYPTION_FAILED', path, error)
  }
  if (!isPending(opened)) return plaintextValue(opened, path)
  return opened.then(
    (bytes) => plaintextValue(bytes, path),
    (error: unknown) => {
      throw pathError('CONTINUUM_DECRYPTION_FAILED', path, error)
    },
  )
}

/** Decrypts a field ciphertext; a failure is CONTINUUM_DECRYPTION_FAILED (or MALFORMED) naming only the path. */
export async function decryptValue(
  context: ClientCipherContext,
  sequence: number,
  path: string,
  ciphertext: string,
): Promise<unknown> {
  return decryptValueNow(context, sequence, path, ciphertext)
}

/**
 * The seal input, `cp2|keyId|nonce|direction|sequence|kind|<UTF-8 length of meta>:<meta>|`
 * followed by the body's canonical JSON, as the parts the backend MACs in turn.
 */
function sealParts(
  context: ClientCipherContext,
  sequence: number,
  kind: SealKind,
  meta: string,
  canonicalBody: string,
): string[] {
  const metaBytes = utf8Length(meta)
  return [
    `${FORMAT_VERSION}|${context.key.id}|${context.nonce}|${context.direction}|${sequence}|${kind}|${metaBytes}:${meta}|`,
    canonicalBody,
  ]
}

/** The UTF-8 length of a string, without encoding it when it is ASCII (as meta nearly always is). */
function utf8Length(text: string): number {
  return isAscii(text) ? text.length : utf8(text).length
}

/** The seal of a message whose body is given as its canonical JSON; immediate on a synchronous backend. */
export function sealOfTextNow(
  context: ClientCipherContext,
  sequence: number,
  kind: SealKind,
  meta: string,
  canonicalBody: string,
): MaybePromise<string> {
  const { backend, sealKey } = context.key
  return after(backend.sign(sealKey, sealParts(context, sequence, kind, meta, canonicalBody)), toBase64url)
}

/** The seal of a message (docs/PROTOCOL.md), base64url. */
export async function computeSeal(
  context: ClientCipherContext,
  sequence: number,
  kind: SealKind,
  meta: string,
  body: unknown,
): Promise<string> {
  return sealOfTextNow(context, sequence, kind, meta, canonicalJson(body))
}

/** {@link sealMatches}, immediate on a synchronous backend; throws rather than rejects there. */
export function sealMatchesNow(
  context: ClientCipherContext,
  sequence: number,
  kind: SealKind,
  meta: string,
  body: unknown,
  seal: string | undefined,
): MaybePromise<boolean> {
  if (seal === undefined || seal.length !== 43) return false
  return sealMatchesTextNow(context, sequence, kind, meta, canonicalJson(body), seal)
}

/**
 * Whether a seal covers `text` taken as the body's canonical JSON: a message received as the
 * server wrote it (the canonical form it sealed) is verified over the bytes as they came, with no
 * serialisation. A match proves `text` is the server's canonical text, so what parsing it gives is
 * what the server sealed; a relay that re-formatted the JSON makes it fail, and the caller falls
 * back to {@link sealMatchesNow} over the parsed body.
 */
export function sealMatchesTextNow(
  context: ClientCipherContext,
  sequence: number,
  kind: SealKind,
  meta: string,
  text: string,
  seal: string | undefined,
): MaybePromise<boolean> {
  if (seal === undefined || seal.length !== 43) return false
  const given = fromBase64url(seal)
  if (given === undefined) return false
  const { backend, sealKey } = context.key
  return backend.verify(sealKey, given, sealParts(context, sequence, kind, meta, text))
}

/** Whether a seal matches, compared in constant time by the backend. */
export async function sealMatches(
  context: ClientCipherContext,
  sequence: number,
  kind: SealKind,
  meta: string,
  body: unknown,
  seal: string | undefined,
): Promise<boolean> {
  return sealMatchesNow(context, sequence, kind, meta, body, seal)
}
