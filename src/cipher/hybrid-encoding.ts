/**
 * The sizes of ML-KEM-768's values and the one strict reading of them from base64url. They are
 * apart from the agreement (hybrid-agreement.ts) because every keyring's handshake checks a body's
 * shape with them, while the agreement's code is loaded only with a hybrid key (hybrid-support.ts).
 */
import { ContinuumError } from '../errors'

/** Sizes of ML-KEM-768 (FIPS 203, table 3) and of the hybrid seed. */
export const ML_KEM_768 = { publicKey: 1184, cipherText: 1088, seed: 64, message: 32 } as const

/** Decodes base64url of exactly `length` bytes in its one spelling, or throws CONTINUUM_KEY_AGREEMENT_FAILED. */
export function exactBase64url(value: unknown, length: number, name: string): Buffer {
  const decoded = typeof value === 'string' ? Buffer.from(value, 'base64url') : Buffer.alloc(0)
  if (typeof value !== 'string' || decoded.length !== length || decoded.toString('base64url') !== value) {
    throw new ContinuumError('CONTINUUM_KEY_AGREEMENT_FAILED', `${name} must be ${length} bytes of base64url`)
  }
  return decoded
}
