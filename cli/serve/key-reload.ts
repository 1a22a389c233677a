/**
 * Key reload on SIGHUP: the server reads [keys] again (secret references resolved anew, so a
 * rewritten key file is picked up) and applies what the keyring can change without a restart.
 * A new primary key (the first of `keys`, or `primary`) is rotated in: it encrypts from now on
 * and the previous primary keeps decrypting for `grace_ms`; the same for agreement keys. Ids newly
 * listed in `retired` are refused at once. Anything else (a new key that is not primary, another
 * material under a known id, a changed `grace_ms`) is reported as ignored, never half-applied:
 * a key id always names one key.
 */
import type { Keyring } from '../../src/index'
import type { Table } from './option-map'

/** What a reload changed, by key id only. */
export interface KeyReloadResult {
  readonly rotated: string | undefined
  readonly rotatedAgreement: string | undefined
  readonly retired: readonly string[]
  /** Changes that need a restart, each with its key id or setting. */
  readonly ignored: readonly string[]
}

interface SharedEntry {
  id: string
  key: string
}
interface AgreementEntry {
  id: string
  private_key: string
}

/** Applies reloaded [keys] sections to a running keyring. */
export class KeyReloader {
  readonly #keyring: Keyring
  /** Material by id of every key ever loaded: an id never changes its key. */
  readonly #known = new Map<string, string>()
  readonly #retired = new Set<string>()
  #graceMs: unknown

  constructor(keyring: Keyring, keys: Table) {
    this.#keyring = keyring
    this.#remember(keys)
    for (const id of (keys.retired as string[] | undefined) ?? []) this.#retired.add(id)
    this.#graceMs = keys.grace_ms
  }

  #remember(keys: Table): void {
    for (const entry of (keys.keys as SharedEntry[] | undefined) ?? []) this.#known.set(entry.id, entry.key)
    for (const entry of (keys.agreement_keys as AgreementEntry[] | undefined) ?? [])
      this.#known.set(entry.id, entry.private_key)
  }

  /** Applies `keys` (a validated, resolved [keys] section). */
  apply(keys: Table): KeyReloadResult {
    const shared = (keys.keys as SharedEntry[] | undefined) ?? []
    const agreement = (keys.agreement_keys as AgreementEntry[] | undefined) ?? []
    const ignored: string[] = []
    for (const entry of [
      ...shared.map((item) => [item.id, item.key]),
      ...agreement.map((item) => [item.id, item.private_key]),
    ]) {
      const [id, material] = entry as [string, string]
      const known = this.#known.get(id)
      if (known !== undefined && known !== material)
        ignored.push(`${id}: another key under a known id (give it a new id)`)
    }
    const primaryId = (keys.primary as string | undefined) ?? shared[0]?.id
    let rotated: string | undefined
    if (primaryId !== undefined && primaryId !== this.#keyring.primary?.id) {
      const entry = shared.find((item) => item.id === primaryId)
      if (entry !== undefined && !this.#known.has(entry.id)) {
        this.#keyring.rotate({ id: entry.id, key: entry.key })
        rotated = entry.id
      } else ignored.push(`${primaryId}: only a new key can become primary without a restart`)
    }
    const publishedId = (keys.primary_agreement as string | undefined) ?? agreement[0]?.id
    let rotatedAgreement: string | undefined
    if (publishedId !== undefined && publishedId !== this.#keyring.published()?.keyId) {
      const entry = agreement.find((item) => item.id === publishedId)
      if (entry !== undefined && !this.#known.has(entry.id)) {
        this.#keyring.rotateAgreement({ id: entry.id, privateKey: entry.private_key })
        rotatedAgreement = entry.id
      } else ignored.push(`${publishedId}: only a new agreement key can be published without a restart`)
    }
    for (const item of [...shared, ...agreement]) {
      if (!this.#known.has(item.id) && item.id !== rotated && item.id !== rotatedAgreement) {
        ignored.push(`${item.id}: a new key that is not primary needs a restart`)
      }
    }
    const retired: string[] = []
    for (const id of (keys.retired as string[] | undefined) ?? []) {
      if (this.#retired.has(id)) continue
      this.#keyring.retire(id)
      this.#retired.add(id)
      retired.push(id)
    }
    if (keys.grace_ms !== this.#graceMs) ignored.push('grace_ms: takes effect on restart')
    if (rotated !== undefined) this.#known.set(rotated, shared.find((item) => item.id === rotated)!.key)
    if (rotatedAgreement !== undefined) {
      this.#known.set(rotatedAgreement, agreement.find((item) => item.id === rotatedAgreement)!.private_key)
    }
    return { rotated, rotatedAgreement, retired, ignored }
  }
}
