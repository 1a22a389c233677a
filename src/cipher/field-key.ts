/**
 * A field key ready for use: the AES-256-GCM key and the HMAC key for seals, derived once with
 * HKDF so the two uses never share key material. Both are kept as raw buffers: node:crypto sets
 * up a cipher from raw bytes faster than from a KeyObject (measured in bench/cipher.bench.ts).
 */
import { hkdfSync } from 'node:crypto'
import { ContinuumError } from '../errors'
import { assertKeyId } from './format'

/** HKDF info string that derives the seal key from a field key. */
const SEAL_KEY_INFO = 'continuum-proxy cp2 seal key'

/** A 256-bit field key with its derived seal key. */
export interface FieldKey {
  /** Key id named in every ciphertext. */
  readonly id: string
  /** AES-256-GCM key, 32 bytes. */
  readonly aesKey: Buffer
  /** HMAC-SHA256 key for seals. */
  readonly sealKey: Buffer
}

/** Raw key material: 32 bytes, or their base64 / base64url / hex encoding. */
export type KeyMaterial = Uint8Array | string

/** Decodes key material into exactly 32 bytes; throws CONTINUUM_INVALID_OPTIONS otherwise (the value is never echoed). */
export function decodeKeyMaterial(material: KeyMaterial, where: string): Buffer {
  let bytes: Buffer
  if (typeof material === 'string') {
    const trimmed = material.trim()
    bytes = /^[0-9a-fA-F]{64}$/.test(trimmed)
      ? Buffer.from(trimmed, 'hex')
      : Buffer.from(trimmed, 'base64url')
  } else {
    bytes = Buffer.from(material)
  }
  if (bytes.length !== 32) {
    throw new ContinuumError('CONTINUUM_INVALID_OPTIONS', `${where}: a key must be 32 bytes (AES-256)`)
  }
  return bytes
}

/** Builds a FieldKey from its id and 32 raw bytes. */
export function createFieldKey(id: string, material: KeyMaterial): FieldKey {
  assertKeyId(id, 'field key')
  const bytes = decodeKeyMaterial(material, `key "${id}"`)
  const sealKey = Buffer.from(hkdfSync('sha256', bytes, Buffer.alloc(0), SEAL_KEY_INFO, 32))
  return { id, aesKey: bytes, sealKey }
}
