/**
 * Local model integrity: a signed manifest says which weights a local endpoint may serve. The
 * digest of a weights folder is deterministic: every regular file (symlinked files followed, as
 * in a Hugging Face snapshot) hashed with SHA-256 or SHA3-256, listed as
 * `<hex>  <relative/posix/path>\n` sorted by path bytes, and that listing hashed again with the
 * same function. The manifest binds a model name to that digest with an Ed25519 signature
 * (version 1) or a hybrid Ed25519 + ML-DSA-65 signature (version 2), so swapped, added, removed or
 * renamed weight files and a manifest moved to another model are all refused; a verifier holding
 * a hybrid key accepts only hybrid manifests with both signatures valid.
 */
import { createHash, createPrivateKey, createPublicKey, type KeyObject, sign, verify } from 'node:crypto'
import { createReadStream } from 'node:fs'
import { lstat, readdir, stat } from 'node:fs/promises'
import { join } from 'node:path'
import { ContinuumError } from '../errors'
import {
  type HybridPrivateKey,
  type HybridPublicKey,
  type HybridSignatures,
  hybridSign,
  hybridVerify,
  isHybridPrivateKey,
  isHybridPublicKey,
} from './hybrid-signature'

/** The hash of a model digest. */
export type ModelDigestAlgorithm = 'sha256' | 'sha3-256'

/** One file of a model folder. */
export interface ModelFileDigest {
  /** Relative path with `/` separators. */
  path: string
  /** The file's hash in hex, by the digest's algorithm (the name is historical). */
  sha256: string
  size: number
}

/** The digest of a model folder. */
export interface ModelDigest {
  /** `sha256:<hex>` or `sha3-256:<hex>` over the sorted listing. */
  digest: string
  files: ModelFileDigest[]
}

/** A signed statement that `model` is the weights with `digest`: Ed25519 (1) or hybrid (2). */
export type ModelManifest =
  | {
      version: 1
      model: string
      digest: string
      /** Base64 Ed25519 signature over {@link manifestSigningBytes}. */
      signature: string
      /** Optional name of the signing key, for rotation. */
      keyId?: string
    }
  | {
      version: 2
      model: string
      digest: string
      /** Ed25519 and ML-DSA-65 signatures over {@link manifestSigningBytes} of version 2; both must verify. */
      signatures: HybridSignatures
      keyId?: string
    }

/** FIPS 204 context string of manifest signatures. */
const MANIFEST_CONTEXT = 'continuum-model-manifest'
const DIGEST_PATTERN = /^(sha256|sha3-256):[0-9a-f]{64}$/

function integrityError(message: string, reason: string, model: string): ContinuumError {
  return new ContinuumError('CONTINUUM_MODEL_INTEGRITY_FAILED', message, { details: { model, reason } })
}

async function hashFile(path: string, algorithm: ModelDigestAlgorithm): Promise<string> {
  const hash = createHash(algorithm)
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer)
  return hash.digest('hex')
}

async function listFiles(root: string, relative: string, files: string[]): Promise<void> {
  const entries = await readdir(join(root, relative), { withFileTypes: true })
  for (const entry of entries) {
    const path = relative === '' ? entry.name : `${relative}/${entry.name}`
    if (entry.isDirectory()) await listFiles(root, path, files)
    else if (entry.isFile()) files.push(path)
    else if (entry.isSymbolicLink()) {
      // Files behind links are hashed (HF snapshots are links into a blob store); linked folders are
      // refused, since they could loop or pull in a tree the manifest author never saw.
      const target = await stat(join(root, path))
      if (!target.isFile())
        throw new ContinuumError(
          'CONTINUUM_INVALID_OPTIONS',
          `Model folder entry ${path} links to a non-file`,
        )
      files.push(path)
    }
  }
}

/** Computes the deterministic digest of a weights folder with SHA-256 (default) or SHA3-256. */
export async function computeModelDigest(
  folder: string,
  algorithm: ModelDigestAlgorithm = 'sha256',
): Promise<ModelDigest> {
  if (algorithm !== 'sha256' && algorithm !== 'sha3-256') {
    throw new ContinuumError(
      'CONTINUUM_INVALID_OPTIONS',
      "computeModelDigest: algorithm must be 'sha256' or 'sha3-256'",
    )
  }
  const info = await lstat(folder).catch(() => undefined)
  if (info === undefined || !info.isDirectory()) {
    throw new ContinuumError(
      'CONTINUUM_INVALID_OPTIONS',
      'computeModelDigest: folder must be an existing directory',
    )
  }
  const paths: string[] = []
  await listFiles(folder, '', paths)
  paths.sort((left, right) => Buffer.compare(Buffer.from(left), Buffer.from(right)))
  const files: ModelFileDigest[] = []
  const listing = createHash(algorithm)
  for (const path of paths) {
    const absolute = join(folder, path)
    const [hash, size] = await Promise.all([
      hashFile(absolute, algorithm),
      stat(absolute).then((entry) => entry.size),
    ])
    files.push({ path, sha256: hash, size })
    listing.update(`${hash}  ${path}\n`)
  }
  return { digest: `${algorithm}:${listing.digest('hex')}`, files }
}

/** The exact bytes a manifest signature covers; the version is bound, so a manifest cannot be relabelled. */
export function manifestSigningBytes(model: string, digest: string, version: 1 | 2 = 1): Buffer {
  return Buffer.from(`continuum-model-manifest:v${version}\n${model}\n${digest}`, 'utf8')
}

/**
 * Signs a manifest: with an Ed25519 private key (KeyObject or PEM) a version 1 manifest, at once;
 * with a hybrid key document (`generateHybridSigningKeys`) a version 2 manifest carrying both
 * signatures, resolved once the post-quantum library loaded.
 */
export function signModelManifest(
  content: { model: string; digest: string; keyId?: string },
  privateKey: KeyObject | string,
): ModelManifest
export function signModelManifest(
  content: { model: string; digest: string; keyId?: string },
  privateKey: HybridPrivateKey,
): Promise<ModelManifest>
export function signModelManifest(
  content: { model: string; digest: string; keyId?: string },
  privateKey: KeyObject | string | HybridPrivateKey,
): ModelManifest | Promise<ModelManifest> {
  if (!DIGEST_PATTERN.test(content.digest)) {
    throw new ContinuumError(
      'CONTINUUM_INVALID_OPTIONS',
      'signModelManifest: digest must be sha256:<64 hex> or sha3-256:<64 hex>',
    )
  }
  const keyId = content.keyId === undefined ? {} : { keyId: content.keyId }
  if (isHybridPrivateKey(privateKey)) {
    return hybridSign(
      manifestSigningBytes(content.model, content.digest, 2),
      privateKey,
      MANIFEST_CONTEXT,
    ).then((signatures) => ({
      version: 2 as const,
      model: content.model,
      digest: content.digest,
      signatures,
      ...keyId,
    }))
  }
  const key = typeof privateKey === 'string' ? createPrivateKey(privateKey) : (privateKey as KeyObject)
  if (key.asymmetricKeyType !== 'ed25519') {
    throw new ContinuumError(
      'CONTINUUM_INVALID_OPTIONS',
      'signModelManifest: privateKey must be an Ed25519 key',
    )
  }
  const signature = sign(null, manifestSigningBytes(content.model, content.digest), key).toString('base64')
  return { version: 1, model: content.model, digest: content.digest, signature, ...keyId }
}

/** A trusted key as given: a hybrid key document may come as its JSON text (from a key file). */
function publicKeyOf(key: KeyObject | string | HybridPublicKey): KeyObject | string | HybridPublicKey {
  if (typeof key !== 'string' || !key.trimStart().startsWith('{')) return key
  try {
    const parsed: unknown = JSON.parse(key)
    if (isHybridPublicKey(parsed)) return parsed
  } catch {
    // Not JSON: let the PEM parser name the problem.
  }
  throw new ContinuumError(
    'CONTINUUM_INVALID_OPTIONS',
    'verifyModelManifest: publicKey is neither a PEM nor a hybrid key document',
  )
}

/** What to verify. */
export interface VerifyModelManifestOptions {
  /** The weights folder the endpoint serves. */
  folder: string
  /**
   * The key trusted to sign manifests: Ed25519 (KeyObject or PEM), or a hybrid public key document,
   * with which only version 2 manifests with both signatures valid are accepted.
   */
  publicKey: KeyObject | string | HybridPublicKey
  /** The model name the endpoint serves it as; must equal the manifest's. */
  model?: string
}

/**
 * Checks the signature, then the model name, then the folder digest. Throws
 * CONTINUUM_MODEL_INTEGRITY_FAILED with `details.reason` (`malformed`, `signature`, `downgrade`,
 * `model`, `unreadable`, `digest`).
 */
export async function verifyModelManifest(
  manifest: ModelManifest,
  options: VerifyModelManifestOptions,
): Promise<ModelDigest> {
  const model = typeof manifest?.model === 'string' ? manifest.model : ''
  const version = manifest?.version
  if (
    (version !== 1 && version !== 2) ||
    model === '' ||
    typeof manifest.digest !== 'string' ||
    !DIGEST_PATTERN.test(manifest.digest) ||
    (version === 1 && typeof manifest.signature !== 'string') ||
    (version === 2 && (typeof manifest.signatures !== 'object' || manifest.signatures === null))
  ) {
    throw integrityError('Model manifest is malformed', 'malformed', model)
  }
  const trusted = publicKeyOf(options.publicKey)
  if (isHybridPublicKey(trusted)) {
    // A hybrid verifier never accepts a classical manifest: that would be a downgrade an attacker
    // who broke Ed25519 alone could use.
    if (manifest.version !== 2) {
      throw integrityError(`Model manifest for "${model}" is not hybrid-signed`, 'downgrade', model)
    }
    const bytes = manifestSigningBytes(model, manifest.digest, 2)
    if (!(await hybridVerify(bytes, manifest.signatures, trusted, MANIFEST_CONTEXT))) {
      throw integrityError(`Model manifest signature for "${model}" is not valid`, 'signature', model)
    }
  } else {
    const key = typeof trusted === 'string' ? createPublicKey(trusted) : trusted
    const signature = manifest.version === 1 ? manifest.signature : manifest.signatures.ed25519
    let valid = false
    try {
      valid = verify(
        null,
        manifestSigningBytes(model, manifest.digest, manifest.version),
        key,
        Buffer.from(signature, 'base64'),
      )
    } catch {
      valid = false
    }
    if (!valid)
      throw integrityError(`Model manifest signature for "${model}" is not valid`, 'signature', model)
  }
  if (options.model !== undefined && options.model !== model) {
    throw integrityError(`Model manifest is for "${model}", not "${options.model}"`, 'model', options.model)
  }
  let computed: ModelDigest
  try {
    computed = await computeModelDigest(
      options.folder,
      manifest.digest.startsWith('sha3-256:') ? 'sha3-256' : 'sha256',
    )
  } catch {
    throw integrityError(`Weights folder of model "${model}" could not be read`, 'unreadable', model)
  }
  if (computed.digest !== manifest.digest) {
    throw integrityError(`Weights of model "${model}" do not match their signed manifest`, 'digest', model)
  }
  return computed
}
