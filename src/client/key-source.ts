/**
 * Where the client's field key comes from: a pre-shared key, a key provider the client asks again
 * after a (sealed) retired-key notice, or key agreement with the server's published key: classical
 * X25519 with an ephemeral client key, or the hybrid X25519 + ML-KEM-768 agreement, whose session
 * is renewed before its bounds run out. An agreement key is trusted only when it matches a pinned
 * fingerprint, or, with the explicit trust-on-first-use opt-in, when it is the first key seen at
 * that mount point or the successor a sealed retirement notice of the trusted key named. A client
 * that asked for the hybrid agreement never falls back to the classical one. A hybrid key's
 * fingerprint covers its `classical` flag, the one thing a client without ML-KEM acts on: the
 * flag is believed only as part of a document that matches the pin, so a relay cannot set it to
 * have such a client send a request under X25519 alone.
 */
import type { KeyMaterial } from '../cipher/field-key'
import {
  AGREEMENT_KEY_PATH,
  CLASSICAL_FINGERPRINT_LABEL,
  classicalFlagOf,
  isValidKeyId,
} from '../cipher/format'
import { type Clock, systemClock } from '../core/clock'
import { ContinuumError } from '../errors'
import { MAX_KEY_DOCUMENT_BYTES, readBoundedText } from './bounded-body'
import { loadHybridAgreement } from './hybrid-loader'
import type { HybridSession } from './hybrid-session'
import {
  agreeFieldKey,
  type ClientFieldKey,
  createClientFieldKey,
  decodePublicKey,
  defaultBackend,
  fromBase64url,
  publicKeyFingerprint,
  toHex,
} from './web-crypto/index'

// The agreement algorithms a key document names (docs/PROTOCOL.md §1.2).
const CLASSICAL_AGREEMENT = 'X25519-HKDF-SHA256'
const HYBRID_AGREEMENT = 'X25519MLKEM768-HKDF-SHA256'
const ML_KEM_768_PUBLIC_KEY_BYTES = 1184

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
   * pin must be updated. A hybrid key's fingerprint also covers its `classical` flag.
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
  /**
   * The hybrid post-quantum agreement (X25519 with ML-KEM-768, needs `@noble/post-quantum`):
   * `prefer` uses it whenever the server publishes a hybrid key and the classical one otherwise;
   * `require` refuses a server key that is only classical (CONTINUUM_KEY_AGREEMENT_DOWNGRADE), so
   * a relay rewriting the key document cannot downgrade it; `off` never loads ML-KEM and agrees
   * classically, with a hybrid key too when the server allows it (its traffic is then open to a
   * future quantum computer).
   * @default 'prefer'
   */
  hybrid?: 'prefer' | 'require' | 'off'
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
  if (options.hybrid !== undefined && !['prefer', 'require', 'off'].includes(options.hybrid)) {
    throw new ContinuumError(
      'CONTINUUM_INVALID_OPTIONS',
      "agreement.hybrid must be 'prefer', 'require' or 'off'",
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

function mismatch(): ContinuumError {
  return new ContinuumError(
    'CONTINUUM_SERVER_KEY_MISMATCH',
    'Server agreement key does not match the pinned or trusted fingerprint',
  )
}

/** An agreed key: one classical key for the mount point, or a bounded hybrid session. */
type Agreed = { kind: 'classical'; resolved: ResolvedKey } | { kind: 'hybrid'; session: HybridSession }

/**
 * A key source that agrees keys with the server's published key: a classical X25519 key, or a
 * hybrid X25519 + ML-KEM-768 key whose sessions it renews before their bounds.
 */
export function agreementKeySource(
  options: AgreementOptions,
  fetcher: typeof fetch,
  clock: Clock = systemClock,
): KeySource {
  validateAgreementOptions(options)
  const mode = options.hybrid ?? 'prefer'
  const cache = new Map<string, Promise<Agreed>>()
  // Trust on first use: the fingerprint trusted at each mount point.
  const trusted = new Map<string, string>()

  async function fetchPublished(mountUrl: string): Promise<Record<string, unknown> & { keyId: string }> {
    const url = options.url ?? `${mountUrl}${AGREEMENT_KEY_PATH}`
    const response = await fetcher(url, { headers: { accept: 'application/json' }, redirect: 'error' })
    if (!response.ok) {
      await response.body?.cancel()
      throw agreementFailed(`Server key not available (HTTP ${response.status})`)
    }
    let published: Record<string, unknown> | null
    try {
      const text = await readBoundedText(response, MAX_KEY_DOCUMENT_BYTES, () =>
        agreementFailed('Server key document is too large'),
      )
      published = JSON.parse(text) as Record<string, unknown> | null
    } catch (error) {
      if (ContinuumError.isInstance(error)) throw error
      throw agreementFailed('Server key is not JSON', error)
    }
    if (typeof published?.keyId !== 'string' || !isValidKeyId(published.keyId)) {
      throw agreementFailed('Server key has no valid keyId')
    }
    return published as Record<string, unknown> & { keyId: string }
  }

  /** Checks a computed fingerprint against the pin or the trusted key, and trusts it on first use. */
  function vouch(mountUrl: string, actual: string): void {
    const expected = options.fingerprint ?? trusted.get(mountUrl)
    if (expected !== undefined && expected !== actual) throw mismatch()
    if (options.trustOnFirstUse === true) trusted.set(mountUrl, actual)
  }

  async function classical(keyId: string, serverPublic: Uint8Array): Promise<Agreed> {
    const agreed = await agreeFieldKey(defaultBackend(), keyId, serverPublic)
    return {
      kind: 'classical',
      resolved: {
        key: agreed.key,
        headers: { 'x-continuum-key-id': keyId, 'x-continuum-ephemeral-key': agreed.ephemeralKey },
      },
    }
  }

  /**
   * The one fingerprint over both keys of a hybrid document and its classical permission:
   * SHA-256(mlKemPublicKey || x25519), then CLASSICAL_FINGERPRINT_LABEL when `classical`.
   */
  async function hybridFingerprint(
    published: Record<string, unknown>,
    x25519: Uint8Array,
    classical: boolean,
  ): Promise<string> {
    const mlKem =
      typeof published.mlKemPublicKey === 'string' ? fromBase64url(published.mlKemPublicKey) : undefined
    if (mlKem === undefined) throw agreementFailed('Server key has no valid mlKemPublicKey')
    if (mlKem.length !== ML_KEM_768_PUBLIC_KEY_BYTES)
      throw agreementFailed('Server key has no valid mlKemPublicKey')
    const label = classical ? new TextEncoder().encode(CLASSICAL_FINGERPRINT_LABEL) : new Uint8Array(0)
    const joined = new Uint8Array(mlKem.length + x25519.length + label.length)
    joined.set(mlKem)
    joined.set(x25519, mlKem.length)
    joined.set(label, mlKem.length + x25519.length)
    return `sha256:${toHex(await defaultBackend().sha256(joined))}`
  }

  async function agree(mountUrl: string, retried = false): Promise<Agreed> {
    const published = await fetchPublished(mountUrl)
    const algorithm = published.algorithm ?? CLASSICAL_AGREEMENT
    if (algorithm !== CLASSICAL_AGREEMENT && algorithm !== HYBRID_AGREEMENT) {
      throw agreementFailed('Server key names an unknown agreement algorithm')
    }
    let serverPublic: Uint8Array
    try {
      serverPublic = decodePublicKey(published.publicKey)
    } catch (error) {
      throw agreementFailed('Server key has no valid publicKey', error)
    }
    if (algorithm === CLASSICAL_AGREEMENT) {
      if (mode === 'require') {
        throw new ContinuumError(
          'CONTINUUM_KEY_AGREEMENT_DOWNGRADE',
          'The server key offers only the classical X25519 agreement; this client requires the hybrid one',
        )
      }
      const actual = await publicKeyFingerprint(defaultBackend(), serverPublic)
      if (published.fingerprint !== actual) throw mismatch()
      vouch(mountUrl, actual)
      return classical(published.keyId, serverPublic)
    }
    // The flag decides below whether a client without the hybrid agreement may agree X25519 alone,
    // so it is read only as part of the fingerprinted document the pin vouches for.
    const classicalAllowed = classicalFlagOf(published)
    const actual = await hybridFingerprint(published, serverPublic, classicalAllowed)
    if (published.fingerprint !== actual) {
      throw new ContinuumError(
        'CONTINUUM_SERVER_KEY_MISMATCH',
        'The published fingerprint is not the hash of the published keys and classical flag',
      )
    }
    vouch(mountUrl, actual)
    // Runtimes without the hybrid implementation (browser builds, for now) agree like `off` does.
    const hybrid = mode === 'off' ? undefined : await loadHybridAgreement()
    if (hybrid === undefined) {
      if (mode === 'require') {
        throw agreementFailed('This runtime has no hybrid agreement, and agreement.hybrid is require')
      }
      if (!classicalAllowed) {
        throw agreementFailed(
          mode === 'off'
            ? 'The server agrees hybrid post-quantum sessions only, and agreement.hybrid is off'
            : 'The server agrees hybrid post-quantum sessions only, which this runtime cannot',
        )
      }
      return classical(published.keyId, serverPublic)
    }
    const outcome = await hybrid.agreeSession(mountUrl, published, fetcher, clock)
    if (outcome.kind === 'session') return { kind: 'hybrid', session: outcome.session }
    // A proven notice: the key retired; trust its successor (on first use) and agree again, once.
    if (retried) throw agreementFailed('The server key retired again during the handshake')
    adoptSuccessor(mountUrl, outcome.successor)
    return agree(mountUrl, true)
  }

  function adoptSuccessor(mountUrl: string, successor: string | undefined): void {
    if (options.trustOnFirstUse === true && successor !== undefined && FINGERPRINT.test(successor)) {
      trusted.set(mountUrl, successor)
    }
  }

  return {
    async resolve(mountUrl) {
      // The server publishes its key under its mount point, so agree per mount point, not per origin.
      for (let fresh = false; ; ) {
        let entry = cache.get(mountUrl)
        if (entry === undefined) {
          const started = agree(mountUrl)
          entry = started
          cache.set(mountUrl, started)
          started.catch(() => {
            if (cache.get(mountUrl) === started) cache.delete(mountUrl)
          })
          fresh = true
        }
        const agreed = await entry
        if (agreed.kind === 'classical') return agreed.resolved
        if (sessionUsable(agreed.session, clock.now())) {
          agreed.session.used += 1
          return agreed.session.resolved
        }
        // Spent or about to end: agree a new session (once per resolve, so a server granting
        // unusable sessions cannot make this loop).
        if (fresh) throw agreementFailed('The agreed session cannot carry a request')
        if (cache.get(mountUrl) === entry) cache.delete(mountUrl)
      }
    },
    refresh(mountUrl, successor) {
      cache.clear()
      adoptSuccessor(mountUrl, successor)
    },
  }
}

/** Whether a session may carry one more request now. */
function sessionUsable(session: HybridSession, now: number): boolean {
  return session.used < session.maxRequests && now < session.expiresAt - session.marginMs
}
