/**
 * Hybrid signatures: Ed25519 and ML-DSA-65 (FIPS 204) over the same bytes, both required, so a
 * signature stays unforgeable while either scheme holds: a quantum computer that breaks Ed25519
 * still faces ML-DSA, and a flaw found in the young ML-DSA still faces Ed25519. ML-DSA signs with
 * a context string (FIPS 204 domain separation) naming what is signed. Keys travel as small JSON
 * documents: the Ed25519 key as PEM, the ML-DSA key as its 32-byte seed (private) or its encoded
 * public key, both base64url.
 */
import {
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  type KeyObject,
  randomBytes,
  sign,
  verify,
} from 'node:crypto'
import { ContinuumError } from '../errors'
import { loadMlDsa65 } from '../internal/post-quantum'

/** A hybrid private key document, as `continuum-proxy model keygen` writes it. */
export interface HybridPrivateKey {
  readonly type: 'continuum-hybrid-signing-key'
  /** Ed25519 private key, PKCS#8 PEM. */
  readonly ed25519: string
  /** ML-DSA-65 key seed, 32 bytes base64url (FIPS 204 key generation from a seed). */
  readonly mlDsa65Seed: string
}

/** A hybrid public key document. */
export interface HybridPublicKey {
  readonly type: 'continuum-hybrid-verify-key'
  /** Ed25519 public key, SPKI PEM. */
  readonly ed25519: string
  /** ML-DSA-65 public key, 1952 bytes base64url. */
  readonly mlDsa65: string
}

/** Both signatures, base64. */
export interface HybridSignatures {
  readonly ed25519: string
  readonly mlDsa65: string
}

const SEED_LENGTH = 32
const ML_DSA_65_PUBLIC_KEY_LENGTH = 1952

function invalid(message: string): ContinuumError {
  return new ContinuumError('CONTINUUM_INVALID_OPTIONS', message)
}

/** Whether a value is a hybrid public key document. */
export function isHybridPublicKey(value: unknown): value is HybridPublicKey {
  return (
    typeof value === 'object' &&
    value !== null &&
    (value as HybridPublicKey).type === 'continuum-hybrid-verify-key'
  )
}

/** Whether a value is a hybrid private key document. */
export function isHybridPrivateKey(value: unknown): value is HybridPrivateKey {
  return (
    typeof value === 'object' &&
    value !== null &&
    (value as HybridPrivateKey).type === 'continuum-hybrid-signing-key'
  )
}

/** A new hybrid key pair (random Ed25519 key and ML-DSA-65 seed). */
export async function generateHybridSigningKeys(): Promise<{
  privateKey: HybridPrivateKey
  publicKey: HybridPublicKey
}> {
  const mlDsa = await loadMlDsa65()
  const ed = generateKeyPairSync('ed25519')
  const seed = randomBytes(SEED_LENGTH)
  const { publicKey } = mlDsa.keygen(seed)
  return {
    privateKey: {
      type: 'continuum-hybrid-signing-key',
      ed25519: ed.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
      mlDsa65Seed: seed.toString('base64url'),
    },
    publicKey: {
      type: 'continuum-hybrid-verify-key',
      ed25519: ed.publicKey.export({ type: 'spki', format: 'pem' }).toString(),
      mlDsa65: Buffer.from(publicKey).toString('base64url'),
    },
  }
}

function edPrivate(pem: string): KeyObject {
  let key: KeyObject
  try {
    key = createPrivateKey(pem)
  } catch (error) {
    throw new ContinuumError('CONTINUUM_INVALID_OPTIONS', 'hybrid key: ed25519 is not a private key PEM', {
      cause: error,
    })
  }
  if (key.asymmetricKeyType !== 'ed25519') throw invalid('hybrid key: ed25519 must be an Ed25519 key')
  return key
}

function edPublic(pem: string): KeyObject {
  let key: KeyObject
  try {
    key = createPublicKey(pem)
  } catch (error) {
    throw new ContinuumError('CONTINUUM_INVALID_OPTIONS', 'hybrid key: ed25519 is not a public key PEM', {
      cause: error,
    })
  }
  if (key.asymmetricKeyType !== 'ed25519') throw invalid('hybrid key: ed25519 must be an Ed25519 key')
  return key
}

function bytes(value: string, length: number, name: string): Uint8Array {
  const decoded = Buffer.from(value, 'base64url')
  if (decoded.length !== length || decoded.toString('base64url') !== value.replace(/=+$/, '')) {
    throw invalid(`hybrid key: ${name} must be ${length} bytes, base64url`)
  }
  return decoded
}

/** Signs `message` with both keys; `context` names what is signed (at most 255 bytes). */
export async function hybridSign(
  message: Uint8Array,
  key: HybridPrivateKey,
  context: string,
): Promise<HybridSignatures> {
  if (!isHybridPrivateKey(key)) throw invalid('hybrid signing needs a continuum-hybrid-signing-key document')
  const mlDsa = await loadMlDsa65()
  const { secretKey } = mlDsa.keygen(bytes(key.mlDsa65Seed, SEED_LENGTH, 'mlDsa65Seed'))
  return {
    ed25519: sign(null, message, edPrivate(key.ed25519)).toString('base64'),
    mlDsa65: Buffer.from(mlDsa.sign(message, secretKey, { context: Buffer.from(context) })).toString(
      'base64',
    ),
  }
}

/** Whether both signatures verify; one valid signature alone is not enough. */
export async function hybridVerify(
  message: Uint8Array,
  signatures: HybridSignatures,
  key: HybridPublicKey,
  context: string,
): Promise<boolean> {
  if (!isHybridPublicKey(key))
    throw invalid('hybrid verification needs a continuum-hybrid-verify-key document')
  const publicKey = bytes(key.mlDsa65, ML_DSA_65_PUBLIC_KEY_LENGTH, 'mlDsa65')
  const edKey = edPublic(key.ed25519)
  if (typeof signatures?.ed25519 !== 'string' || typeof signatures.mlDsa65 !== 'string') return false
  const mlDsa = await loadMlDsa65()
  let classical = false
  let postQuantum = false
  try {
    classical = verify(null, message, edKey, Buffer.from(signatures.ed25519, 'base64'))
  } catch {
    classical = false
  }
  try {
    postQuantum = mlDsa.verify(Buffer.from(signatures.mlDsa65, 'base64'), message, publicKey, {
      context: Buffer.from(context),
    })
  } catch {
    postQuantum = false
  }
  return classical && postQuantum
}
