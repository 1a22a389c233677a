/**
 * Local model integrity: a signed manifest says which weights a local endpoint may serve. The
 * digest of a weights folder is deterministic: every regular file (symlinked files followed, as
 * in a Hugging Face snapshot) hashed with SHA-256, listed as `<hex>  <relative/posix/path>\n`
 * sorted by path bytes, and that listing hashed again. The manifest binds a model name to that
 * digest with an Ed25519 signature, so swapped, added, removed or renamed weight files and a
 * manifest moved to another model are all refused.
 */
import { createHash, createPrivateKey, createPublicKey, type KeyObject, sign, verify } from 'node:crypto'
import { createReadStream } from 'node:fs'
import { lstat, readdir, stat } from 'node:fs/promises'
import { join } from 'node:path'
import { ContinuumError } from '../errors'

/** One file of a model folder. */
export interface ModelFileDigest {
  /** Relative path with `/` separators. */
  path: string
  sha256: string
  size: number
}

/** The digest of a model folder. */
export interface ModelDigest {
  /** `sha256:<hex>` over the sorted listing. */
  digest: string
  files: ModelFileDigest[]
}

/** A signed statement that `model` is the weights with `digest`. */
export interface ModelManifest {
  version: 1
  model: string
  digest: string
  /** Base64 Ed25519 signature over {@link manifestSigningBytes}. */
  signature: string
  /** Optional name of the signing key, for rotation. */
  keyId?: string
}

function integrityError(message: string, reason: string, model: string): ContinuumError {
  return new ContinuumError('CONTINUUM_MODEL_INTEGRITY_FAILED', message, { details: { model, reason } })
}

async function hashFile(path: string): Promise<string> {
  const hash = createHash('sha256')
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

/** Computes the deterministic digest of a weights folder. */
export async function computeModelDigest(folder: string): Promise<ModelDigest> {
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
  const listing = createHash('sha256')
  for (const path of paths) {
    const absolute = join(folder, path)
    const [sha256, size] = await Promise.all([hashFile(absolute), stat(absolute).then((entry) => entry.size)])
    files.push({ path, sha256, size })
    listing.update(`${sha256}  ${path}\n`)
  }
  return { digest: `sha256:${listing.digest('hex')}`, files }
}

/** The exact bytes a manifest signature covers. */
export function manifestSigningBytes(model: string, digest: string): Buffer {
  return Buffer.from(`continuum-model-manifest:v1\n${model}\n${digest}`, 'utf8')
}

/** Signs a manifest with an Ed25519 private key (KeyObject or PEM). */
export function signModelManifest(
  content: { model: string; digest: string; keyId?: string },
  privateKey: KeyObject | string,
): ModelManifest {
  const key = typeof privateKey === 'string' ? createPrivateKey(privateKey) : privateKey
  if (key.asymmetricKeyType !== 'ed25519') {
    throw new ContinuumError(
      'CONTINUUM_INVALID_OPTIONS',
      'signModelManifest: privateKey must be an Ed25519 key',
    )
  }
  if (!/^sha256:[0-9a-f]{64}$/.test(content.digest)) {
    throw new ContinuumError('CONTINUUM_INVALID_OPTIONS', 'signModelManifest: digest must be sha256:<64 hex>')
  }
  const signature = sign(null, manifestSigningBytes(content.model, content.digest), key).toString('base64')
  return {
    version: 1,
    model: content.model,
    digest: content.digest,
    signature,
    ...(content.keyId === undefined ? {} : { keyId: content.keyId }),
  }
}

/** What to verify. */
export interface VerifyModelManifestOptions {
  /** The weights folder the endpoint serves. */
  folder: string
  /** Ed25519 public key (KeyObject or PEM) trusted to sign manifests. */
  publicKey: KeyObject | string
  /** The model name the endpoint serves it as; must equal the manifest's. */
  model?: string
}

/**
 * Checks the signature, then the model name, then the folder digest. Throws
 * CONTINUUM_MODEL_INTEGRITY_FAILED with `details.reason` (`malformed`, `signature`, `model`, `unreadable`, `digest`).
 */
export async function verifyModelManifest(
  manifest: ModelManifest,
  options: VerifyModelManifestOptions,
): Promise<ModelDigest> {
  const model = typeof manifest?.model === 'string' ? manifest.model : ''
  if (
    manifest?.version !== 1 ||
    model === '' ||
    typeof manifest.digest !== 'string' ||
    typeof manifest.signature !== 'string'
  ) {
    throw integrityError('Model manifest is malformed', 'malformed', model)
  }
  const key = typeof options.publicKey === 'string' ? createPublicKey(options.publicKey) : options.publicKey
  let valid = false
  try {
    valid = verify(
      null,
      manifestSigningBytes(model, manifest.digest),
      key,
      Buffer.from(manifest.signature, 'base64'),
    )
  } catch {
    valid = false
  }
  if (!valid) throw integrityError(`Model manifest signature for "${model}" is not valid`, 'signature', model)
  if (options.model !== undefined && options.model !== model) {
    throw integrityError(`Model manifest is for "${model}", not "${options.model}"`, 'model', options.model)
  }
  let computed: ModelDigest
  try {
    computed = await computeModelDigest(options.folder)
  } catch {
    throw integrityError(`Weights folder of model "${model}" could not be read`, 'unreadable', model)
  }
  if (computed.digest !== manifest.digest) {
    throw integrityError(`Weights of model "${model}" do not match their signed manifest`, 'digest', model)
  }
  return computed
}
