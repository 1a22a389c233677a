/**
 * A field key for the client: the AES-256-GCM key and the HMAC seal key derived from it with
 * HKDF (docs/PROTOCOL.md), held as handles of the crypto backend. The key id and the material
 * are checked synchronously, so a bad option still throws at construction; the derivation itself
 * is asynchronous under WebCrypto.
 */
import { isValidKeyId } from '../../cipher/format'
import { ContinuumError } from '../../errors'
import type { AesKeyHandle, CryptoBackend, HmacKeyHandle } from './backend'
import { fromBase64url, fromHex } from './bytes'

/** HKDF info string that derives the seal key from a field key. */
const SEAL_KEY_INFO = 'continuum-proxy cp2 seal key'

/** A 256-bit field key with its derived seal key, ready for one backend. */
export interface ClientFieldKey {
  /** Key id named in every ciphertext. */
  readonly id: string
  readonly aesKey: AesKeyHandle
  readonly sealKey: HmacKeyHandle
  readonly backend: CryptoBackend
}

/** Decodes 32 bytes of key material (bytes, hex, base64url or base64); throws CONTINUUM_INVALID_OPTIONS. */
export function decodeKeyBytes(material: Uint8Array | string, where: string): Uint8Array {
  let bytes: Uint8Array | undefined
  if (typeof material === 'string') {
    const trimmed = material.trim()
    bytes = /^[0-9a-fA-F]{64}$/.test(trimmed)
      ? fromHex(trimmed)
      : fromBase64url(trimmed.replaceAll('+', '-').replaceAll('/', '_').replace(/=+$/, ''))
  } else if (material instanceof Uint8Array) {
    bytes = material.slice()
  }
  if (bytes?.length !== 32) {
    throw new ContinuumError('CONTINUUM_INVALID_OPTIONS', `${where}: a key must be 32 bytes (AES-256)`)
  }
  return bytes
}

/** Checks a key id; throws CONTINUUM_INVALID_OPTIONS naming where it came from. */
export function checkKeyId(id: unknown, where: string): asserts id is string {
  if (typeof id !== 'string' || !isValidKeyId(id)) {
    throw new ContinuumError(
      'CONTINUUM_INVALID_OPTIONS',
      `${where}: key id must be 1-64 characters of [A-Za-z0-9_-]`,
    )
  }
}

/** Derives the handles of a field key from 32 raw bytes whose id was checked. */
export async function deriveFieldKey(
  backend: CryptoBackend,
  id: string,
  bytes: Uint8Array,
): Promise<ClientFieldKey> {
  const sealBytes = await backend.hkdf(bytes, new Uint8Array(0), SEAL_KEY_INFO, 32)
  const [aesKey, sealKey] = await Promise.all([backend.aesKey(bytes), backend.hmacKey(sealBytes)])
  return { id, aesKey, sealKey, backend }
}

/** Checks and derives a field key from its id and material. */
export function createClientFieldKey(
  backend: CryptoBackend,
  id: string,
  material: Uint8Array | string,
): Promise<ClientFieldKey> {
  checkKeyId(id, 'field key')
  const bytes = decodeKeyBytes(material, `key "${id}"`)
  return deriveFieldKey(backend, id, bytes)
}
