/**
 * Field encryption and seals of wire format cp2 (docs/PROTOCOL.md) for the client, on a crypto
 * backend: byte for byte what src/cipher/field-cipher.ts and field-map.ts compute on the server
 * (the shared vectors of test/fixtures/protocol-vectors.json check both), but asynchronous, and
 * the fields of one message are encrypted or decrypted concurrently.
 */

import { ContinuumError } from '../../errors'
import { canonicalJson } from '../../internal/canonical-json'
import { concatBytes, fromBase64url, fromUtf8, randomBytes, toBase64url, utf8 } from './bytes'
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

function fieldAad(context: ClientCipherContext, sequence: number, path: string): Uint8Array {
  return utf8(`${FORMAT_VERSION}|${context.key.id}|${context.nonce}|${context.direction}|${sequence}|${path}`)
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

/** Encrypts a JSON value into `cp2.<keyId>.<base64url(iv || ciphertext || tag)>`. */
export async function encryptValue(
  context: ClientCipherContext,
  sequence: number,
  path: string,
  value: unknown,
  /** Only for the deterministic test vectors; never pass an IV in production. */
  iv: Uint8Array = randomBytes(IV_LENGTH),
): Promise<string> {
  let plaintext: string
  try {
    plaintext = canonicalJson(value)
  } catch (error) {
    throw pathError('CONTINUUM_NON_CANONICAL_JSON', path, error)
  }
  const { backend, aesKey } = context.key
  const sealed = await backend.encrypt(aesKey, iv, fieldAad(context, sequence, path), utf8(plaintext))
  return `${PREFIX}${context.key.id}.${toBase64url(concatBytes(iv, sealed))}`
}

/** Decrypts a field ciphertext; a failure is CONTINUUM_DECRYPTION_FAILED (or MALFORMED) naming only the path. */
export async function decryptValue(
  context: ClientCipherContext,
  sequence: number,
  path: string,
  ciphertext: string,
): Promise<unknown> {
  const separator = ciphertext.indexOf('.', PREFIX.length)
  const keyId = separator === -1 ? '' : ciphertext.slice(PREFIX.length, separator)
  const payload = separator === -1 ? undefined : fromBase64url(ciphertext.slice(separator + 1))
  if (!ciphertext.startsWith(PREFIX) || !KEY_ID.test(keyId) || payload === undefined) {
    throw pathError('CONTINUUM_MALFORMED_CIPHERTEXT', path)
  }
  if (payload.length < IV_LENGTH + TAG_LENGTH) throw pathError('CONTINUUM_MALFORMED_CIPHERTEXT', path)
  if (keyId !== context.key.id) throw pathError('CONTINUUM_DECRYPTION_FAILED', path)
  const { backend, aesKey } = context.key
  let text: string
  try {
    const aad = fieldAad(context, sequence, path)
    text = fromUtf8(
      await backend.decrypt(aesKey, payload.subarray(0, IV_LENGTH), aad, payload.subarray(IV_LENGTH)),
    )
  } catch (error) {
    throw pathError('CONTINUUM_DECRYPTION_FAILED', path, error)
  }
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch (error) {
    throw pathError('CONTINUUM_DECRYPTION_FAILED', path, error)
  }
  // The plaintext must be its value's RFC 8785 form, as on the server.
  let canonical: string | undefined
  try {
    canonical = canonicalJson(value)
  } catch {
    canonical = undefined
  }
  if (canonical !== text) throw pathError('CONTINUUM_NON_CANONICAL_JSON', path)
  return value
}

function sealInput(
  context: ClientCipherContext,
  sequence: number,
  kind: SealKind,
  meta: string,
  body: unknown,
): Uint8Array {
  const metaBytes = utf8(meta).length
  const head = `${FORMAT_VERSION}|${context.key.id}|${context.nonce}|${context.direction}|${sequence}|${kind}|${metaBytes}:${meta}|`
  return utf8(head + canonicalJson(body))
}

/** The seal of a message (docs/PROTOCOL.md), base64url. */
export async function computeSeal(
  context: ClientCipherContext,
  sequence: number,
  kind: SealKind,
  meta: string,
  body: unknown,
): Promise<string> {
  const { backend, sealKey } = context.key
  return toBase64url(await backend.sign(sealKey, sealInput(context, sequence, kind, meta, body)))
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
  if (seal === undefined || seal.length !== 43) return false
  const given = fromBase64url(seal)
  if (given === undefined) return false
  const { backend, sealKey } = context.key
  return backend.verify(sealKey, given, sealInput(context, sequence, kind, meta, body))
}
