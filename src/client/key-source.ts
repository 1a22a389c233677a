/**
 * Where the client's field key comes from: a pre-shared key, a key provider the client asks again
 * after a (sealed) retired-key notice, or key agreement with the server's published X25519 key and
 * an ephemeral client key. An agreement key is trusted only when it matches a pinned fingerprint,
 * or, with the explicit trust-on-first-use opt-in, when it is the first key seen at that mount
 * point or the successor a sealed retirement notice of the trusted key named.
 */
import type { KeyMaterial } from '../cipher/field-key'
import { AGREEMENT_KEY_PATH, isValidKeyId } from '../cipher/format'
import { ContinuumError } from '../errors'
import {
  agreeFieldKey,
  type ClientFieldKey,
  createClientFieldKey,
  decodePublicKey,
  defaultBackend,
  publicKeyFingerprint,
} from './web-crypto/index'

/** A pre-shared key as a provider returns it. */
export interface SharedKey {
  keyId: string
  key: KeyMaterial
}

/** Key agreement settings: give `fingerprint`, or opt in to `trustOnFirstUse`. */
export interface AgreementOptions {
  /**
   * Where the server publishes its key.
   * @default the proxy's mount point (the request URL before the route path, e.g.
   *   `https://host/llm` for `https://host/llm/v1/chat/completions`) plus `/.well-known/continuum-key`
   */
  url?: string
  /**
   * The `sha256:<hex>` fingerprint of the server key (its `fingerprint` as published). Any other
   * key is refused with CONTINUUM_SERVER_KEY_MISMATCH before content leaves; after a rotation the
   * pin must be updated.
   * @default undefined (then `trustOnFirstUse` must be true)
   */
  fingerprint?: string
  /**
   * Trust the first key fetched from each mount point without a pin (like SSH's first
   * connection): whoever controls the path on that first fetch can read and answer every request.
   * A later, different key is refused unless a sealed retirement notice of the trusted key named
   * it as successor.
   * @default false
   */
  trustOnFirstUse?: boolean
}

const FINGERPRINT = /^sha256:[0-9a-f]{64}$/

/** Throws CONTINUUM_INVALID_OPTIONS unless exactly one of a pin and the trust-on-first-use opt-in is given. */
export function validateAgreementOptions(options: AgreementOptions): void {
  const pinned = options.fingerprint !== undefined
  if (pinned && (typeof options.fingerprint !== 'string' || !FINGERPRINT.test(options.fingerprint))) {
    throw new ContinuumError(
      'CONTINUUM_INVALID_OPTIONS',
      'agreement.fingerprint must be "sha256:" and 64 lower-case hex digits',
    )
  }
  if (options.trustOnFirstUse !== undefined && typeof options.trustOnFirstUse !== 'boolean') {
    throw new ContinuumError('CONTINUUM_INVALID_OPTIONS', 'agreement.trustOnFirstUse must be a boolean')
  }
  if (pinned === (options.trustOnFirstUse === true)) {
    throw new ContinuumError(
      'CONTINUUM_INVALID_OPTIONS',
      pinned
        ? 'agreement: give a fingerprint or trustOnFirstUse, not both'
        : 'agreement: pin the server key with fingerprint, or opt in to trustOnFirstUse explicitly',
    )
  }
}

/** The field key of one request and the headers that name it. */
export interface ResolvedKey {
  key: ClientFieldKey
  headers: Record<string, string>
}

/** Resolves keys for the client, caching them until a refresh. */
export interface KeySource {
  /** `mountUrl` is where the proxy is mounted: origin and path prefix, no trailing slash. */
  resolve(mountUrl: string): Promise<ResolvedKey>
  /**
   * Drops cached keys so the next resolve fetches fresh ones; called only after a sealed
   * retirement notice, whose `successor` (an agreement key's fingerprint) is then trusted.
   */
  refresh(mountUrl: string, successor?: string): void
}

/** A key source over a fixed or provided pre-shared key. */
export function sharedKeySource(provider: () => SharedKey | Promise<SharedKey>): KeySource {
  let cached: Promise<ResolvedKey> | undefined
  return {
    resolve() {
      cached ??= Promise.resolve(provider()).then(async ({ keyId, key }) => ({
        key: await createClientFieldKey(defaultBackend(), keyId, key),
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

function agreementFailed(message: string, cause?: unknown): ContinuumError {
  return new ContinuumError('CONTINUUM_KEY_AGREEMENT_FAILED', message, cause === undefined ? {} : { cause })
}

/** A key source that agrees keys with the server's published X25519 key. */
export function agreementKeySource(options: AgreementOptions, fetcher: typeof fetch): KeySource {
  validateAgreementOptions(options)
  const cache = new Map<string, Promise<ResolvedKey>>()
  // Trust on first use: the fingerprint trusted at each mount point.
  const trusted = new Map<string, string>()
  async function agree(mountUrl: string): Promise<ResolvedKey> {
    const url = options.url ?? `${mountUrl}${AGREEMENT_KEY_PATH}`
    const response = await fetcher(url, { headers: { accept: 'application/json' }, redirect: 'error' })
    if (!response.ok) {
      await response.body?.cancel()
      throw agreementFailed(`Server key not available (HTTP ${response.status})`)
    }
    const published = (await response.json().catch((error: unknown) => {
      throw agreementFailed('Server key is not JSON', error)
    })) as { keyId?: unknown; publicKey?: unknown; fingerprint?: unknown } | null
    if (typeof published?.keyId !== 'string' || !isValidKeyId(published.keyId)) {
      throw agreementFailed('Server key has no valid keyId')
    }
    const backend = defaultBackend()
    const serverPublic = decodePublicKey(published.publicKey)
    const actual = await publicKeyFingerprint(backend, serverPublic)
    const expected = options.fingerprint ?? trusted.get(mountUrl)
    if (published.fingerprint !== actual || (expected !== undefined && expected !== actual)) {
      throw new ContinuumError(
        'CONTINUUM_SERVER_KEY_MISMATCH',
        'Server agreement key does not match the pinned or trusted fingerprint',
      )
    }
    if (options.trustOnFirstUse === true) trusted.set(mountUrl, actual)
    const agreed = await agreeFieldKey(backend, published.keyId, serverPublic)
    return {
      key: agreed.key,
      headers: {
        'x-continuum-key-id': published.keyId,
        'x-continuum-ephemeral-key': agreed.ephemeralKey,
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
    refresh(mountUrl, successor) {
      cache.clear()
      if (options.trustOnFirstUse === true && successor !== undefined && FINGERPRINT.test(successor)) {
        trusted.set(mountUrl, successor)
      }
    },
  }
}
