/**
 * The audit log's optional hybrid signature: Ed25519 and ML-DSA-65 (FIPS 204) over the same
 * canonical bytes, both required by the verifier, so a log stays unforgeable while either scheme
 * holds (a quantum computer that breaks Ed25519 still faces ML-DSA). The keys are the hybrid key
 * documents `continuum-proxy model keygen` writes. A hybrid log's key id is `hybrid-` and the
 * Ed25519 key id: a verifier given the hybrid key maps that id to both keys and refuses a record
 * without a valid ML-DSA signature, and a record re-labelled with the bare Ed25519 id is signed by
 * a key it was not given. ML-DSA is loaded only when a hybrid key is configured.
 */
import type { KeyObject } from 'node:crypto'
import { ContinuumError } from '../errors'
import { loadMlDsa65 } from '../internal/post-quantum'
import {
  type HybridPrivateKey,
  type HybridPublicKey,
  isHybridPrivateKey,
  isHybridPublicKey,
} from '../router/hybrid-signature'
import { type AuditKeyInput, auditKeyId, parseAuditPrivateKey, parseAuditPublicKey } from './audit-keys'

/** The FIPS 204 context string of audit record signatures. */
const CONTEXT = Buffer.from('continuum-proxy audit record')
const SEED_LENGTH = 32
const ML_DSA_65_PUBLIC_KEY_LENGTH = 1952
const ML_DSA_65_SIGNATURE_LENGTH = 3309

/** A signing key of the audit log: an Ed25519 key, or a hybrid key document. */
export type AuditSigningKeyInput = AuditKeyInput | HybridPrivateKey
/** A verification key: an Ed25519 key, or a hybrid public key document. */
export type AuditVerifyKeyInput = AuditKeyInput | HybridPublicKey

/** Signs the canonical bytes with ML-DSA-65, base64. */
export type PostQuantumSigner = (bytes: Uint8Array) => string
/** Whether an ML-DSA-65 signature (base64) verifies over the canonical bytes. */
export type PostQuantumVerifier = (bytes: Uint8Array, signature: unknown) => boolean

function invalid(message: string): ContinuumError {
  return new ContinuumError('CONTINUUM_AUDIT_KEY_INVALID', message)
}

function exact(value: unknown, length: number, name: string): Buffer {
  const decoded = typeof value === 'string' ? Buffer.from(value, 'base64url') : Buffer.alloc(0)
  if (decoded.length !== length)
    throw invalid(`The audit hybrid key's ${name} must be ${length} bytes, base64url`)
  return decoded
}

/** The Ed25519 half, key id and (for a hybrid key) the ML-DSA seed of a signing key. */
export function parseSigningKey(input: AuditSigningKeyInput): {
  privateKey: KeyObject
  keyId: string
  mlDsaSeed: Buffer | undefined
} {
  if (!isHybridPrivateKey(input)) {
    const privateKey = parseAuditPrivateKey(input as AuditKeyInput)
    return { privateKey, keyId: auditKeyId(privateKey), mlDsaSeed: undefined }
  }
  const privateKey = parseAuditPrivateKey(input.ed25519)
  const mlDsaSeed = exact(input.mlDsa65Seed, SEED_LENGTH, 'mlDsa65Seed')
  return { privateKey, keyId: `hybrid-${auditKeyId(privateKey)}`, mlDsaSeed }
}

/** Loads ML-DSA-65 and expands the seed once; the signer then signs synchronously. */
export async function postQuantumSigner(seed: Uint8Array): Promise<PostQuantumSigner> {
  const mlDsa = await loadMlDsa65()
  const { secretKey } = mlDsa.keygen(seed)
  return (bytes) => Buffer.from(mlDsa.sign(bytes, secretKey, { context: CONTEXT })).toString('base64')
}

/** A verification key by its key id, with the ML-DSA verifier when it is hybrid. */
export async function parseVerifyKey(
  input: AuditVerifyKeyInput,
): Promise<{ keyId: string; publicKey: KeyObject; postQuantum: PostQuantumVerifier | undefined }> {
  if (!isHybridPublicKey(input)) {
    const publicKey = parseAuditPublicKey(input as AuditKeyInput)
    return { keyId: auditKeyId(publicKey), publicKey, postQuantum: undefined }
  }
  const publicKey = parseAuditPublicKey(input.ed25519)
  const mlDsaPublic = exact(input.mlDsa65, ML_DSA_65_PUBLIC_KEY_LENGTH, 'mlDsa65')
  const mlDsa = await loadMlDsa65()
  const postQuantum: PostQuantumVerifier = (bytes, signature) => {
    if (typeof signature !== 'string') return false
    const decoded = Buffer.from(signature, 'base64')
    if (decoded.length !== ML_DSA_65_SIGNATURE_LENGTH) return false
    try {
      return mlDsa.verify(decoded, bytes, mlDsaPublic, { context: CONTEXT })
    } catch {
      return false
    }
  }
  return { keyId: `hybrid-${auditKeyId(publicKey)}`, publicKey, postQuantum }
}
