/**
 * Keys by id. One primary key encrypts; after a rotation the previous keys still decrypt during a
 * grace period, then become retired and are refused with CONTINUUM_KEY_RETIRED (distinct from an
 * unknown id) so clients know to refresh. Agreement keys (X25519) live here too, with the same
 * life cycle; the field keys derived from them are cached per client ephemeral key.
 *
 * A hybrid agreement key (X25519 with ML-KEM-768) agrees sessions instead: a handshake
 * (`handshake`, served by the hybrid session stage) issues a ticket sealing the session key under
 * a key derived from the hybrid seed, and `resolve` opens it on any instance holding that key.
 * A session past its lifetime is refused as a retired key would be, its notice sealed under the
 * session key, so the client agrees a new session and retries once.
 *
 * A key whose grace period ended is kept as a tombstone, never to decrypt again, only so the
 * server can seal its CONTINUUM_KEY_RETIRED notice: a client retries only on a sealed notice,
 * because anyone on the path can write a plain one (and a retry after a forged notice makes the
 * upstream run twice). `retire(id)` forgets a key at once, tombstone included.
 *
 * Rotation can also follow a schedule (`applySchedule`, fed by a reloading key source): each key
 * names the moment it becomes primary, and a key stops decrypting `graceMs` after its successor's
 * moment. Every instance reading the same schedule switches primary and retires the old key at
 * the same instants, by its own clock, without talking to the others.
 */
import type { KeyObject } from 'node:crypto'
import { LRUCache } from 'lru-cache'
import { type Clock, systemClock } from '../core/clock'
import { ContinuumError } from '../errors'
import { brand } from '../internal/brand'
import { createFieldKey, decodeKeyMaterial, type FieldKey, type KeyMaterial } from './field-key'
import { assertKeyId } from './format'
import type { HybridKeyPair } from './hybrid-agreement'
import { answerHandshake, type HandshakeAnswer, type SessionPolicy } from './hybrid-handshake'
import { type HybridSupport, loadedHybridSupport } from './hybrid-loaded'
import {
  type AgreementAlgorithm,
  type AgreementKeyPair,
  CLASSICAL_AGREEMENT,
  deriveAgreedKey,
  fingerprint,
  HYBRID_AGREEMENT,
  importPublicKey,
  loadAgreementPrivateKey,
  type PublishedAgreementKey,
} from './key-agreement'
import type { SessionTicket } from './session-ticket'

/** A pre-shared key as configured. */
export interface SharedKeyInput {
  /** Key id, 1–64 characters of `[A-Za-z0-9_-]`. */
  id: string
  /** 32 bytes, or their base64 / base64url / hex encoding. */
  key: KeyMaterial
}

/** An agreement key as configured: X25519, or hybrid X25519 with ML-KEM-768. */
export interface AgreementKeyInput {
  id: string
  /**
   * X25519: PEM, base64url raw scalar, or a KeyObject. Hybrid: the 32-byte seed both key pairs are
   * expanded from (base64url or hex; `continuum-proxy keygen` prints one).
   */
  privateKey: KeyObject | string
  /**
   * `X25519MLKEM768-HKDF-SHA256` for the hybrid post-quantum agreement (needs `@noble/post-quantum`
   * and `await Keyring.create(...)`, and the hybrid session stage to serve handshakes).
   * @default 'X25519-HKDF-SHA256'
   */
  algorithm?: AgreementAlgorithm
  /**
   * Hybrid keys only: also agree classical X25519 keys under this id with clients that lack
   * ML-KEM. Their traffic is then open to a future quantum computer, so it is off unless chosen.
   * The published fingerprint covers this choice: changing it changes the pin clients need.
   * @default false
   */
  classical?: boolean
}

/** The hybrid half of an agreement key, with the hybrid code it was loaded with (hybrid-support.ts). */
interface HybridEntry {
  readonly pair: HybridKeyPair
  readonly ticketKey: Buffer
  readonly classical: boolean
  readonly code: HybridSupport['code']
}

/** Options of {@link Keyring}. */
export interface KeyringOptions {
  /**
   * Pre-shared field keys. The first is primary unless `primary` names another.
   * @default []
   */
  keys?: SharedKeyInput[]
  /**
   * X25519 keys for agreement without pre-sharing. The first is published unless `primaryAgreement` names another.
   * @default []
   */
  agreementKeys?: AgreementKeyInput[]
  /**
   * Id of the primary pre-shared key.
   * @default the first of `keys`
   */
  primary?: string
  /**
   * Id of the published agreement key.
   * @default the first of `agreementKeys`
   */
  primaryAgreement?: string
  /**
   * How long a key keeps decrypting after it stops being primary, in milliseconds.
   * @default 86400000 (24 hours)
   */
  graceMs?: number
  /**
   * Most agreed keys cached (one per client ephemeral key, or per hybrid session ticket).
   * @default 10000
   */
  maxAgreedKeys?: number
  /**
   * Time source.
   * @default systemClock
   */
  clock?: Clock
}

function invalidKeys(message: string): ContinuumError {
  return new ContinuumError('CONTINUUM_INVALID_OPTIONS', `Keyring: ${message}`)
}

function listOption<T>(value: readonly T[] | undefined, name: string): readonly T[] {
  if (value === undefined) return []
  if (!Array.isArray(value)) throw invalidKeys(`${name} must be a list, e.g. ${name}: [{ id: 'k2026', ... }]`)
  return value
}

/** What an unset environment variable looks like once it reaches a key option. */
const UNSET = 'is not set (an unset environment variable reads as undefined)'

function checkSharedInput(input: SharedKeyInput, where: string): void {
  if (typeof input !== 'object' || input === null) throw invalidKeys(`${where} must be { id, key }`)
  if (input.id === undefined) throw invalidKeys(`${where}.id ${UNSET}: give the key's id, e.g. 'k2026'`)
  assertKeyId(input.id, `Keyring: ${where}.id`)
  const key = input.key as unknown
  const hint = 'make one with `npx continuum-proxy keygen field`'
  if (key === undefined || key === null || key === '') {
    throw invalidKeys(
      `${where}.key (id "${input.id}") ${UNSET}: give 32 bytes as base64url, base64 or hex; ${hint}`,
    )
  }
  if (typeof key !== 'string' && !(key instanceof Uint8Array)) {
    throw invalidKeys(`${where}.key (id "${input.id}") must be a string or a Uint8Array of 32 bytes; ${hint}`)
  }
  try {
    decodeKeyMaterial(key, where)
  } catch {
    throw invalidKeys(
      `${where}.key (id "${input.id}") must be 32 bytes, as base64url, base64 or hex; ${hint}`,
    )
  }
}

function checkAgreementInput(input: AgreementKeyInput, where: string): void {
  if (typeof input !== 'object' || input === null) throw invalidKeys(`${where} must be { id, privateKey }`)
  if (input.id === undefined) throw invalidKeys(`${where}.id ${UNSET}: give the key's id, e.g. 'a2026'`)
  assertKeyId(input.id, `Keyring: ${where}.id`)
  const key = input.privateKey as unknown
  const hint =
    "an X25519 private key: a PEM file's text (readFileSync(path, 'utf8')), its raw base64url scalar, or a KeyObject; make one with `npx continuum-proxy keygen agreement --out key.pem`"
  if (key === undefined || key === null || key === '') {
    throw invalidKeys(`${where}.privateKey (id "${input.id}") ${UNSET}: give ${hint}`)
  }
  // A hybrid key's material is a seed, checked where its key pairs are expanded.
  if (input.algorithm === HYBRID_AGREEMENT) return
  try {
    loadAgreementPrivateKey(key as KeyObject | string)
  } catch {
    throw invalidKeys(`${where}.privateKey (id "${input.id}") is not ${hint}`)
  }
}

type Entry =
  | { kind: 'shared'; key: FieldKey; acceptUntil: number }
  | { kind: 'agreement'; pair: AgreementKeyPair; hybrid?: HybridEntry; acceptUntil: number }

/** One key of a rotation schedule, with its material. */
export type ScheduledKeyInput =
  | (SharedKeyInput & {
      readonly kind?: 'shared' /** When it becomes primary, epoch ms. */
      readonly activatesAt: number
    })
  | (AgreementKeyInput & {
      readonly kind: 'agreement' /** When it is published, epoch ms. */
      readonly activatesAt: number
    })

/** What {@link Keyring.applySchedule} changed. */
export interface ScheduleChange {
  /** Ids newly loaded. */
  readonly added: readonly string[]
  /** Ids retired at once because they left the schedule. */
  readonly removed: readonly string[]
}

/** What the client is told of the key that replaces a retired agreement key, sealed under the old one. */
export interface SuccessorKey {
  keyId: string
  fingerprint: string
}

/** Holds keys by id through rotation. */
export class Keyring {
  readonly #entries = new Map<string, Entry>()
  readonly #retired = new Set<string>()
  /** Keys past their grace period, kept only to seal their retirement notices. */
  readonly #tombstones = new Map<string, Entry>()
  readonly #agreed: LRUCache<string, FieldKey>
  readonly #sessions: LRUCache<string, SessionTicket>
  readonly #graceMs: number
  readonly #clock: Clock
  #primary: string | undefined
  #primaryAgreement: string | undefined
  /** Activation times of the scheduled keys; empty unless a schedule was applied. */
  #activations = new Map<string, number>()

  constructor(options: KeyringOptions = {}) {
    this.#graceMs = options.graceMs ?? 86_400_000
    if (!Number.isFinite(this.#graceMs) || this.#graceMs < 0) {
      throw new ContinuumError('CONTINUUM_INVALID_OPTIONS', 'Keyring: graceMs must be a non-negative number')
    }
    this.#clock = options.clock ?? systemClock
    this.#agreed = new LRUCache({ max: options.maxAgreedKeys ?? 10_000 })
    this.#sessions = new LRUCache({ max: options.maxAgreedKeys ?? 10_000 })
    for (const [index, input] of listOption(options.keys, 'keys').entries()) {
      checkSharedInput(input, `keys[${index}]`)
      this.#addShared(input)
    }
    for (const [index, input] of listOption(options.agreementKeys, 'agreementKeys').entries()) {
      checkAgreementInput(input, `agreementKeys[${index}]`)
      this.#addAgreement(input)
    }
    if (this.#entries.size === 0) {
      throw invalidKeys(
        'give at least one key: keys: [{ id, key }] with a 32-byte key (`npx continuum-proxy keygen field`),' +
          ' or agreementKeys: [{ id, privateKey }] (`npx continuum-proxy keygen agreement --out key.pem`)',
      )
    }
    this.#primary = options.primary ?? options.keys?.[0]?.id
    this.#primaryAgreement = options.primaryAgreement ?? options.agreementKeys?.[0]?.id
    if (options.primary !== undefined && this.#entries.get(options.primary)?.kind !== 'shared') {
      throw invalidKeys(`primary "${options.primary}" is not the id of one of keys`)
    }
    if (
      options.primaryAgreement !== undefined &&
      this.#entries.get(options.primaryAgreement)?.kind !== 'agreement'
    ) {
      throw invalidKeys(
        `primaryAgreement "${options.primaryAgreement}" is not the id of one of agreementKeys`,
      )
    }
  }

  #addShared(input: SharedKeyInput): void {
    assertKeyId(input.id, 'Keyring')
    this.#assertFresh(input.id)
    this.#entries.set(input.id, {
      kind: 'shared',
      key: createFieldKey(input.id, input.key),
      acceptUntil: Infinity,
    })
  }

  /**
   * Builds a keyring whose agreement keys may be hybrid: loads `@noble/post-quantum` and the
   * hybrid code first when one is (CONTINUUM_DEPENDENCY_MISSING without the package), then builds
   * as the constructor does.
   */
  static async create(options: KeyringOptions = {}): Promise<Keyring> {
    if ((options.agreementKeys ?? []).some(isHybridInput)) {
      await (await import('./hybrid-support')).loadHybridSupport()
    }
    return new Keyring(options)
  }

  #addAgreement(input: AgreementKeyInput): void {
    assertKeyId(input.id, 'Keyring')
    this.#assertFresh(input.id)
    this.#entries.set(input.id, agreementEntry(input))
  }

  #assertFresh(id: string): void {
    if (this.#entries.has(id) || this.#retired.has(id)) {
      throw invalidKeys(
        `key id "${id}" is already used: every key, and every retired key, needs an id of its own`,
      )
    }
  }

  /** The primary pre-shared key, used to encrypt by clients holding the same keyring. */
  get primary(): FieldKey | undefined {
    const id = this.#primaryId('shared')
    if (id === undefined) return undefined
    const entry = this.#entries.get(id)
    return entry?.kind === 'shared' ? entry.key : undefined
  }

  /**
   * The primary of a kind: with a schedule, the latest key whose moment has come (or, before any
   * has, the earliest); otherwise the configured or rotated one.
   */
  #primaryId(kind: Entry['kind']): string | undefined {
    const configured = kind === 'shared' ? this.#primary : this.#primaryAgreement
    if (this.#activations.size === 0) return configured
    const now = this.#clock.now()
    let active: [string, number] | undefined
    let earliest: [string, number] | undefined
    for (const [id, at] of this.#activations) {
      if (this.#entries.get(id)?.kind !== kind) continue
      if (at <= now && (active === undefined || at > active[1])) active = [id, at]
      if (earliest === undefined || at < earliest[1]) earliest = [id, at]
    }
    return active?.[0] ?? earliest?.[0] ?? configured
  }

  /**
   * Follows a rotation schedule (from a reloading key source): loads the keys it adds, retires at
   * once the scheduled keys it no longer lists, and lets each key decrypt until `graceMs` after
   * the next key of its kind activates. A retired id is never loaded again, and an id keeps the
   * material it was first loaded with. Throws CONTINUUM_INVALID_OPTIONS, changing nothing, when
   * an entry is malformed.
   */
  applySchedule(keys: readonly ScheduledKeyInput[], graceMs = this.#graceMs): ScheduleChange {
    if (!Number.isFinite(graceMs) || graceMs < 0) {
      throw new ContinuumError('CONTINUUM_INVALID_OPTIONS', 'Keyring: graceMs must be a non-negative number')
    }
    const next = new Map<string, number>()
    for (const input of keys) {
      assertKeyId(input.id, 'Keyring schedule')
      if (!Number.isSafeInteger(input.activatesAt) || input.activatesAt < 0) {
        throw new ContinuumError(
          'CONTINUUM_INVALID_OPTIONS',
          `Keyring schedule: key "${input.id}" needs activatesAt`,
        )
      }
      if (next.has(input.id)) {
        throw new ContinuumError(
          'CONTINUUM_INVALID_OPTIONS',
          `Keyring schedule: key id "${input.id}" is listed twice`,
        )
      }
      next.set(input.id, input.activatesAt)
    }
    const loaded = (id: string) => this.#entries.has(id) || this.#retired.has(id) || this.#tombstones.has(id)
    // Material is checked before anything changes.
    const fresh = keys.filter((input) => !loaded(input.id))
    const built = fresh.map((input): [string, Entry] =>
      input.kind === 'agreement'
        ? [input.id, agreementEntry(input)]
        : [input.id, { kind: 'shared', key: createFieldKey(input.id, input.key), acceptUntil: Infinity }],
    )
    // A key whose grace already ended is retired for good before the new times are computed:
    // otherwise a schedule postponing or dropping its successor (or a longer graceMs) would let
    // it decrypt again, on the instances where no request happened to touch it since.
    const now = this.#clock.now()
    for (const [id, entry] of this.#entries) if (entry.acceptUntil <= now) this.#bury(id, entry)
    const removed = [...this.#activations.keys()].filter((id) => !next.has(id))
    for (const id of removed) this.retire(id)
    for (const [id, entry] of built) this.#entries.set(id, entry)
    this.#activations = new Map([...next].filter(([id]) => this.#entries.has(id) || this.#tombstones.has(id)))
    for (const kind of ['shared', 'agreement'] as const) {
      const order = [...this.#activations]
        .filter(([id]) => (this.#entries.get(id) ?? this.#tombstones.get(id))?.kind === kind)
        .sort((left, right) => left[1] - right[1])
      order.forEach(([id], index) => {
        const entry = this.#entries.get(id)
        const successor = order[index + 1]
        if (entry !== undefined)
          entry.acceptUntil = successor === undefined ? Infinity : successor[1] + graceMs
      })
    }
    return { added: built.map(([id]) => id), removed }
  }

  /** Makes a new pre-shared key primary; the previous primary keeps decrypting for the grace period. */
  rotate(input: SharedKeyInput): void {
    checkSharedInput(input, 'rotate(key)')
    this.#addShared(input)
    this.#startGrace(this.#primaryId('shared'))
    this.#primary = input.id
  }

  /** Publishes a new agreement key; the previous one keeps working for the grace period. */
  rotateAgreement(input: AgreementKeyInput): void {
    checkAgreementInput(input, 'rotateAgreement(key)')
    this.#addAgreement(input)
    this.#startGrace(this.#primaryAgreement)
    this.#primaryAgreement = input.id
  }

  #startGrace(id: string | undefined): void {
    const entry = id === undefined ? undefined : this.#entries.get(id)
    if (entry !== undefined) entry.acceptUntil = this.#clock.now() + this.#graceMs
  }

  /** Refuses a key at once, before its grace period ends, and forgets it (no sealed notice). */
  retire(id: string): void {
    const known = this.#entries.delete(id)
    if (!this.#tombstones.delete(id) && !known) return
    this.#retired.add(id)
    if (this.#primary === id) this.#primary = undefined
    if (this.#primaryAgreement === id) this.#primaryAgreement = undefined
    this.#activations.delete(id)
  }

  /** Turns a key past its grace period into a tombstone: never to decrypt again, only to seal its notice. */
  #bury(id: string, entry: Entry): void {
    this.#entries.delete(id)
    this.#retired.add(id)
    this.#tombstones.set(id, entry)
  }

  #entry(id: string): Entry {
    const entry = this.#entries.get(id)
    if (entry !== undefined && entry.acceptUntil > this.#clock.now()) return entry
    if (entry !== undefined) this.#bury(id, entry)
    if (this.#retired.has(id)) {
      const successor = this.#tombstones.get(id)?.kind === 'agreement' ? this.#successor() : undefined
      throw new ContinuumError(
        'CONTINUUM_KEY_RETIRED',
        `Key "${id}" was retired; refresh the key and retry`,
        { details: successor === undefined ? { keyId: id } : { keyId: id, successor } },
      )
    }
    throw new ContinuumError(
      'CONTINUUM_KEY_UNKNOWN',
      "The server has no key with the request's key id: check the client's keyId against the server's keys",
      { details: { keyId: id } },
    )
  }

  #successor(): SuccessorKey | undefined {
    const published = this.published()
    return published === undefined
      ? undefined
      : { keyId: published.keyId, fingerprint: published.fingerprint }
  }

  /**
   * The field key for a request: a pre-shared key by id, the key agreed with the client's
   * ephemeral public key (base64url) when `id` names an agreement key, or the session key of a
   * hybrid session ticket (which travels in the same header). A session past its end is refused
   * with CONTINUUM_KEY_RETIRED (`details.session: 'expired'`), a forged ticket with
   * CONTINUUM_SESSION_INVALID.
   */
  resolve(id: string, ephemeralKey?: string): FieldKey {
    const entry = this.#entry(id)
    if (entry.kind === 'agreement' && entry.hybrid !== undefined && ephemeralKey !== undefined) {
      if (entry.hybrid.code.looksLikeTicket(ephemeralKey)) {
        const session = this.#session(id, entry.hybrid, ephemeralKey)
        if (session.expiresAt <= this.#clock.now()) {
          throw new ContinuumError(
            'CONTINUUM_KEY_RETIRED',
            'The agreement session ended; agree a new one and retry',
            {
              details: { keyId: id, session: 'expired' },
            },
          )
        }
        return session.key
      }
      if (!entry.hybrid.classical) {
        throw new ContinuumError(
          'CONTINUUM_KEY_AGREEMENT_FAILED',
          `Key "${id}" agrees hybrid post-quantum sessions only`,
        )
      }
    }
    return this.#fieldKey(id, entry, ephemeralKey)
  }

  /**
   * The key a retired key's notice is sealed with (after the request's seal verified under it),
   * or undefined when the key was forgotten or never known. Never used to decrypt. For a hybrid
   * session that ended (or whose key retired) it is the session key.
   */
  retiredKey(id: string, ephemeralKey?: string): FieldKey | undefined {
    const tombstone = this.#tombstones.get(id)
    const entry = tombstone ?? this.#entries.get(id)
    if (entry === undefined) return undefined
    try {
      if (entry.kind === 'agreement' && entry.hybrid !== undefined && ephemeralKey !== undefined) {
        if (entry.hybrid.code.looksLikeTicket(ephemeralKey))
          return this.#session(id, entry.hybrid, ephemeralKey).key
      }
      return tombstone === undefined ? undefined : this.#fieldKey(id, tombstone, ephemeralKey)
    } catch {
      return undefined
    }
  }

  /** Opens a session ticket of a hybrid key (cached by ticket), or throws CONTINUUM_SESSION_INVALID. */
  #session(id: string, hybrid: HybridEntry, ticket: string): SessionTicket {
    const cacheKey = `${id}:${ticket}`
    const cached = this.#sessions.get(cacheKey)
    if (cached !== undefined) return cached
    const opened = hybrid.code.openTicket(hybrid.ticketKey, id, ticket)
    this.#sessions.set(cacheKey, opened)
    return opened
  }

  /**
   * The session a ticket names, for the stage that counts its requests; undefined for anything
   * that is not a ticket of a hybrid key this keyring holds.
   */
  session(id: string, ticket: string): SessionTicket | undefined {
    const entry = this.#entries.get(id) ?? this.#tombstones.get(id)
    if (
      entry?.kind !== 'agreement' ||
      entry.hybrid === undefined ||
      !entry.hybrid.code.looksLikeTicket(ticket)
    )
      return undefined
    try {
      return this.#session(id, entry.hybrid, ticket)
    } catch {
      return undefined
    }
  }

  /**
   * Answers a hybrid handshake (docs/PROTOCOL.md §1.3): decapsulates, checks the client's proof
   * and issues a session ticket, or a proven retirement notice naming the successor. Throws
   * (unproven) when no key can vouch for the answer.
   */
  handshake(body: unknown, policy: SessionPolicy): HandshakeAnswer {
    return answerHandshake(body, policy, this.#clock.now(), (id) => {
      const active = this.#entries.get(id)
      if (active !== undefined && active.acceptUntil > this.#clock.now()) {
        return active.kind === 'agreement' && active.hybrid !== undefined
          ? {
              state: 'active',
              pair: active.hybrid.pair,
              ticketKey: active.hybrid.ticketKey,
              acceptUntil: active.acceptUntil,
              prove: active.hybrid.code.proveHandshake,
            }
          : { state: 'not-hybrid' }
      }
      // Lets a key past its grace become a tombstone, and reports unknown or forgotten ids.
      try {
        this.#entry(id)
      } catch (error) {
        const tombstone = this.#tombstones.get(id)
        if (tombstone?.kind === 'agreement' && tombstone.hybrid !== undefined) {
          return {
            state: 'retired',
            pair: tombstone.hybrid.pair,
            ticketKey: tombstone.hybrid.ticketKey,
            error,
            prove: tombstone.hybrid.code.proveHandshake,
          }
        }
        throw error
      }
      return { state: 'not-hybrid' }
    })
  }

  #fieldKey(id: string, entry: Entry, ephemeralKey: string | undefined): FieldKey {
    if (entry.kind === 'shared') {
      if (ephemeralKey !== undefined) {
        throw new ContinuumError(
          'CONTINUUM_KEY_AGREEMENT_FAILED',
          `Key "${id}" is pre-shared, not an agreement key`,
        )
      }
      return entry.key
    }
    if (ephemeralKey === undefined) {
      throw new ContinuumError('CONTINUUM_KEY_AGREEMENT_FAILED', `Key "${id}" needs an ephemeral client key`)
    }
    const cacheKey = `${id}:${ephemeralKey}`
    const cached = this.#agreed.get(cacheKey)
    if (cached !== undefined) return cached
    const peer = importPublicKey(ephemeralKey)
    const derived = deriveAgreedKey(
      id,
      entry.pair.privateKey,
      peer.key,
      peer.bytes,
      entry.pair.publicKeyBytes,
    )
    this.#agreed.set(cacheKey, derived)
    return derived
  }

  /** The agreement key to publish, or undefined when none is configured. */
  published(): PublishedAgreementKey | undefined {
    const id = this.#primaryId('agreement')
    if (id === undefined) return undefined
    const entry = this.#entries.get(id)
    if (entry?.kind !== 'agreement') return undefined
    if (entry.hybrid !== undefined) {
      return entry.hybrid.code.publishHybridKey(id, entry.hybrid.pair, entry.hybrid.classical)
    }
    return {
      keyId: id,
      algorithm: CLASSICAL_AGREEMENT,
      publicKey: entry.pair.publicKeyBytes.toString('base64url'),
      fingerprint: fingerprint(entry.pair.publicKeyBytes),
    }
  }
}

/** Whether an agreement key input asks for the hybrid algorithm. */
export function isHybridInput(input: { algorithm?: unknown }): boolean {
  return input.algorithm === HYBRID_AGREEMENT
}

/** Builds the entry of an agreement key; a hybrid one needs ML-KEM and the hybrid code loaded (Keyring.create). */
function agreementEntry(input: AgreementKeyInput): Entry {
  const algorithm = input.algorithm ?? CLASSICAL_AGREEMENT
  if (algorithm === CLASSICAL_AGREEMENT) {
    if (input.classical !== undefined) {
      throw new ContinuumError(
        'CONTINUUM_INVALID_OPTIONS',
        `Keyring: key "${input.id}": classical is for hybrid keys`,
      )
    }
    return { kind: 'agreement', pair: loadAgreementPrivateKey(input.privateKey), acceptUntil: Infinity }
  }
  if (algorithm !== HYBRID_AGREEMENT) {
    throw new ContinuumError(
      'CONTINUUM_INVALID_OPTIONS',
      `Keyring: key "${input.id}": algorithm must be ${CLASSICAL_AGREEMENT} or ${HYBRID_AGREEMENT}`,
    )
  }
  if (input.classical !== undefined && typeof input.classical !== 'boolean') {
    throw new ContinuumError(
      'CONTINUUM_INVALID_OPTIONS',
      `Keyring: key "${input.id}": classical must be a boolean`,
    )
  }
  const support = loadedHybridSupport()
  if (support === undefined) {
    throw new ContinuumError(
      'CONTINUUM_INVALID_OPTIONS',
      `Keyring: key "${input.id}" is hybrid: build the keyring with await Keyring.create(options), which loads ML-KEM`,
    )
  }
  if (typeof input.privateKey !== 'string') {
    throw new ContinuumError(
      'CONTINUUM_INVALID_OPTIONS',
      `Keyring: hybrid key "${input.id}" is a 32-byte seed string`,
    )
  }
  const seed = decodeKeyMaterial(input.privateKey, `hybrid key "${input.id}"`)
  const { code } = support
  const pair = code.expandHybridSeed(seed, support.mlKem)
  return {
    kind: 'agreement',
    pair: pair.x25519,
    hybrid: { pair, ticketKey: code.deriveTicketKey(seed), classical: input.classical ?? false, code },
    acceptUntil: Infinity,
  }
}

brand(Keyring.prototype, 'Keyring')
