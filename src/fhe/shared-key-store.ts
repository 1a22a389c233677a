/**
 * Evaluation keys shared by every instance through the StateStore (FheService's `store` option):
 * an upload through one instance is usable through any other, and the byte quotas hold for the
 * fleet, not per process. Only public evaluation material is stored: the bundle exactly as the
 * client uploaded it (Galois, relinearisation and public keys, never a secret key), which every
 * instance checks again against its key id (the digest of its material) before loading it, so
 * whoever can write to the store cannot slip other keys in under an id.
 *
 * Per identity (a digest of it, never the name itself), under one hash tag:
 * - `fhe:{id}:keys`: a weighted lease per key id (weight = bundle bytes, limit = the quota,
 *   expiry = the idle period), so the quota counts exactly the bundles alive and an expired one
 *   gives its bytes back by itself;
 * - `fhe:{id}:bundle:<keyId>`: the bundle, expiring with the idle period.
 * And `fhe:total`: a weighted lease per (identity, key id) bounding all bundles together.
 * Every use renews the three; a bundle deleted through one instance is unusable on all of them
 * at the next product, because each product confirms the bundle is still there. Each lease call
 * reads its whole hash, so every bundle weighs at least {@link MIN_BUNDLE_WEIGHT} against both
 * bounds: the hashes then hold at most quota / 64 KiB and total / 64 KiB entries, however small
 * the bundles (counted at their bytes, a flood of 70-byte bundles grew them without bound, and
 * one lease script scanning 100,000 entries blocks Redis for about 200 ms for every feature).
 */
import { createHash } from 'node:crypto'
import { ContinuumError } from '../errors'
import type { StateStore } from '../stores'
import type { StoreFailureReporter } from '../stores/store-failure'

/**
 * The least a bundle counts against the quotas, in bytes: just under the smallest real bundle of
 * the smallest preset (a seeded ckks-4096 public key alone, about 68 KB), so real bundles of the
 * presets count at their size.
 */
const MIN_BUNDLE_WEIGHT = 64 * 1024

const weightOf = (bytes: number): number => Math.max(bytes, MIN_BUNDLE_WEIGHT)

/** Settings of {@link SharedKeyStore}. */
export interface SharedKeyStoreSettings {
  readonly store: StateStore
  readonly quotaBytes: number
  readonly maxBytes: number
  readonly idleMs: number
  readonly failures: StoreFailureReporter
}

/** The shared side of the FHE key store. */
export class SharedKeyStore {
  constructor(private readonly settings: SharedKeyStoreSettings) {}

  #keys(identity: string) {
    const tag = createHash('sha256').update(identity).digest('hex').slice(0, 32)
    return {
      tag,
      leases: `fhe:{${tag}}:keys`,
      bundle: (keyId: string) => `fhe:{${tag}}:bundle:${keyId}`,
    }
  }

  /**
   * Files a bundle for an identity within its quota and the total; throws
   * CONTINUUM_FHE_KEY_QUOTA_EXCEEDED (429), CONTINUUM_FHE_KEY_STORE_FULL (503) or, when the store
   * cannot answer, CONTINUUM_STORE_UNAVAILABLE (503): without the store the quota cannot be kept.
   */
  async put(identity: string, keyId: string, bundle: Uint8Array): Promise<void> {
    const { store, quotaBytes, maxBytes, idleMs } = this.settings
    const keys = this.#keys(identity)
    const bytes = weightOf(bundle.byteLength)
    const holder = `${keys.tag}:${keyId}`
    try {
      if (!(await store.acquireLease(keys.leases, keyId, quotaBytes, idleMs, bytes))) {
        throw new ContinuumError(
          'CONTINUUM_FHE_KEY_QUOTA_EXCEEDED',
          'These evaluation keys would exceed the caller’s key quota; delete unused keys first',
          { details: { quotaBytes }, retryAfterSeconds: Math.max(1, Math.ceil(idleMs / 1000)) },
        )
      }
      if (!(await store.acquireLease('fhe:total', holder, maxBytes, idleMs, bytes))) {
        await store.releaseLease(keys.leases, keyId)
        throw new ContinuumError('CONTINUUM_FHE_KEY_STORE_FULL', 'The evaluation-key store is full', {
          retryAfterSeconds: Math.max(1, Math.ceil(idleMs / 1000)),
        })
      }
      await store.setBytes(keys.bundle(keyId), bundle, idleMs)
    } catch (error) {
      if (ContinuumError.isInstance(error) && error.code.startsWith('CONTINUUM_FHE_')) throw error
      this.settings.failures.report(error, 'closed')
      await Promise.allSettled([
        store.releaseLease(keys.leases, keyId),
        store.releaseLease('fhe:total', holder),
      ])
      throw error
    }
  }

  /**
   * The bundle an identity holds under a key id, its leases renewed; undefined when absent.
   * Throws CONTINUUM_STORE_UNAVAILABLE when the store cannot answer.
   */
  async fetch(identity: string, keyId: string): Promise<Uint8Array | undefined> {
    const keys = this.#keys(identity)
    let bundle: Uint8Array | undefined
    try {
      bundle = await this.settings.store.getBytes(keys.bundle(keyId))
    } catch (error) {
      this.settings.failures.report(error, 'closed')
      throw error
    }
    if (bundle !== undefined) await this.renew(identity, keyId, bundle.byteLength)
    return bundle
  }

  /**
   * Renews a bundle in use; false when it is gone (deleted through another instance, or expired).
   * A store that cannot answer counts as renewed: keys already loaded keep working (fail open).
   */
  async renew(identity: string, keyId: string, bundleBytes: number): Promise<boolean> {
    const { store, quotaBytes, maxBytes, idleMs } = this.settings
    const keys = this.#keys(identity)
    const bytes = weightOf(bundleBytes)
    try {
      // The bundle first: leases renewed for a deleted bundle would hold its bytes for nothing.
      if (!(await store.touch(keys.bundle(keyId), idleMs))) return false
      await Promise.all([
        store.acquireLease(keys.leases, keyId, quotaBytes, idleMs, bytes),
        store.acquireLease('fhe:total', `${keys.tag}:${keyId}`, maxBytes, idleMs, bytes),
      ])
    } catch (error) {
      this.settings.failures.report(error, 'open')
    }
    return true
  }

  /** Removes an identity's bundle; false when there was none. Throws when the store cannot answer. */
  async remove(identity: string, keyId: string): Promise<boolean> {
    const { store, idleMs } = this.settings
    const keys = this.#keys(identity)
    try {
      const present = await store.touch(keys.bundle(keyId), idleMs)
      await Promise.all([
        store.delete(keys.bundle(keyId)),
        store.releaseLease(keys.leases, keyId),
        store.releaseLease('fhe:total', `${keys.tag}:${keyId}`),
      ])
      return present
    } catch (error) {
      this.settings.failures.report(error, 'closed')
      throw error
    }
  }
}
