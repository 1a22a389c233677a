/**
 * Where the client's field key comes from: a pre-shared key, a key provider the client asks again
 * after a retired-key error, or key agreement with the server's published X25519 key (pinned by
 * fingerprint) and an ephemeral client key.
 */
import { createFieldKey, type FieldKey, type KeyMaterial } from '../cipher/field-key'
import { AGREEMENT_KEY_PATH } from '../cipher/format'
import {
  deriveAgreedKey,
  generateAgreementKeyPair,
  importPublicKey,
  fingerprint as keyFingerprint,
  type PublishedAgreementKey,
} from '../cipher/key-agreement'
import { ContinuumError } from '../errors'

/** A pre-shared key as a provider returns it. */
export interface SharedKey {
  keyId: string
  key: KeyMaterial
}

/** Key agreement settings. */
export interface AgreementOptions {
  /**
   * Where the server publishes its key.
   * @default the proxy's mount point (the request URL before the route path, e.g.
   *   `https://host/llm` for `https://host/llm/v1/chat/completions`) plus `/.well-known/continuum-key`
   */
  url?: string
  /** Expected `sha256:<hex>` fingerprint of the server key; strongly recommended. */
  fingerprint?: string
}

/** The field key of one request and the headers that name it. */
export interface ResolvedKey {
  key: FieldKey
  headers: Record<string, string>
}

/** Resolves keys for the client, caching them until a refresh. */
export interface KeySource {
  /** `mountUrl` is where the proxy is mounted: origin and path prefix, no trailing slash. */
  resolve(mountUrl: string): Promise<ResolvedKey>
  /** Drops cached keys so the next resolve fetches fresh ones. */
  refresh(): void
}

/** A key source over a fixed or provided pre-shared key. */
export function sharedKeySource(provider: () => SharedKey | Promise<SharedKey>): KeySource {
  let cached: Promise<ResolvedKey> | undefined
  return {
    resolve() {
      cached ??= Promise.resolve(provider()).then(({ keyId, key }) => ({
        key: createFieldKey(keyId, key),
        headers: { 'x-continuum-key-id': keyId },
      }))
      cached.catch(() => {
        cached = undefined
      })
      return cached
    },
    refresh() {
      cached = undefined
    },
  }
}

/** A key source that agrees keys with the server's published X25519 key. */
export function agreementKeySource(options: AgreementOptions, fetcher: typeof fetch): KeySource {
  const cache = new Map<string, Promise<ResolvedKey>>()
  async function agree(mountUrl: string): Promise<ResolvedKey> {
    const url = options.url ?? `${mountUrl}${AGREEMENT_KEY_PATH}`
    const response = await fetcher(url, { headers: { accept: 'application/json' } })
    if (!response.ok) {
      throw new ContinuumError(
        'CONTINUUM_KEY_AGREEMENT_FAILED',
        `Server key not available (HTTP ${response.status})`,
      )
    }
    const published = (await response.json()) as PublishedAgreementKey
    const server = importPublicKey(String(published.publicKey))
    const actual = keyFingerprint(server.bytes)
    if (
      published.fingerprint !== actual ||
      (options.fingerprint !== undefined && options.fingerprint !== actual)
    ) {
      throw new ContinuumError(
        'CONTINUUM_SERVER_KEY_MISMATCH',
        'Server agreement key does not match the pinned fingerprint',
      )
    }
    const ephemeral = generateAgreementKeyPair()
    const key = deriveAgreedKey(
      published.keyId,
      ephemeral.privateKey,
      server.key,
      ephemeral.publicKeyBytes,
      server.bytes,
    )
    return {
      key,
      headers: {
        'x-continuum-key-id': published.keyId,
        'x-continuum-ephemeral-key': ephemeral.publicKeyBytes.toString('base64url'),
      },
    }
  }
  return {
    resolve(mountUrl) {
      // The server publishes its key under its mount point, so agree per mount point, not per origin.
      let entry = cache.get(mountUrl)
      if (entry === undefined) {
        entry = agree(mountUrl)
        cache.set(mountUrl, entry)
        entry.catch(() => cache.delete(mountUrl))
      }
      return entry
    },
    refresh() {
      cache.clear()
    },
  }
}
