/**
 * The client's half of X25519 key agreement (docs/PROTOCOL.md): check the server's published raw
 * public key, compute its pinning fingerprint, and derive the field key from an ephemeral key
 * pair: HKDF-SHA256(ikm = X25519(ephemeral private, server public), salt = clientPublic ||
 * serverPublic, info = "continuum-proxy cp2 field key", 32 bytes). On WebCrypto, or on Node's
 * SubtleCrypto, which implements X25519 too.
 */
import { ContinuumError } from '../../errors'
import type { CryptoBackend, EphemeralKeyPair } from './backend'
import { concatBytes, fromBase64url, toBase64url, toHex } from './bytes'
import { type ClientFieldKey, deriveFieldKey } from './field-key'

const AGREEMENT_INFO = 'continuum-proxy cp2 field key'

function failed(message: string, cause?: unknown): ContinuumError {
  return new ContinuumError('CONTINUUM_KEY_AGREEMENT_FAILED', message, cause === undefined ? {} : { cause })
}

/** Decodes a raw 32-byte X25519 public key (base64url); throws CONTINUUM_KEY_AGREEMENT_FAILED. */
export function decodePublicKey(encoded: unknown): Uint8Array {
  const bytes =
    typeof encoded === 'string' && /^[A-Za-z0-9_-]{43}$/.test(encoded) ? fromBase64url(encoded) : undefined
  if (bytes?.length !== 32) throw failed('Server key must be 32 bytes of base64url')
  return bytes
}

/** The pinning fingerprint of a raw public key: `sha256:` and lower-case hex. */
export async function publicKeyFingerprint(backend: CryptoBackend, bytes: Uint8Array): Promise<string> {
  return `sha256:${toHex(await backend.sha256(bytes))}`
}

/** An agreed field key and the ephemeral public key the request must carry. */
export interface AgreedKey {
  readonly key: ClientFieldKey
  /** base64url of the ephemeral public key, for `x-continuum-ephemeral-key`. */
  readonly ephemeralKey: string
}

/** Agrees a fresh field key with the server's public key. */
export async function agreeFieldKey(
  backend: CryptoBackend,
  keyId: string,
  serverPublic: Uint8Array,
  /** Only for the deterministic test vectors: a fixed client key pair instead of a fresh one. */
  fixedPair?: EphemeralKeyPair,
): Promise<AgreedKey> {
  let shared: Uint8Array
  let clientPublic: Uint8Array
  try {
    const pair = fixedPair ?? (await backend.ephemeralKeyPair())
    clientPublic = pair.publicKey
    shared = await pair.agree(serverPublic)
  } catch (error) {
    throw failed('X25519 agreement failed', error)
  }
  // An all-zero secret means a small-order peer key: refuse it rather than derive a guessable key.
  if (shared.every((byte) => byte === 0)) throw failed('X25519 agreement produced a weak secret')
  const material = await backend.hkdf(shared, concatBytes(clientPublic, serverPublic), AGREEMENT_INFO, 32)
  return { key: await deriveFieldKey(backend, keyId, material), ephemeralKey: toBase64url(clientPublic) }
}
