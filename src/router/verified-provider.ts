/**
 * Wraps a local provider so each model it serves is checked against its signed manifest before
 * the first request that uses it. The check (hashing gigabytes of weights) runs once per model and
 * its result is cached, success and failure alike; concurrent first requests share one check. A
 * refused model fails with CONTINUUM_MODEL_INTEGRITY_FAILED, which the router treats as this
 * provider's problem and falls over to the next one.
 */
import type { KeyObject } from 'node:crypto'
import { ContinuumError } from '../errors'
import type { CanonicalRequest, EmbeddingRequest, StreamChunk } from '../protocol/canonical'
import type { InferenceProvider, ProviderHealth } from '../provider-kit/provider'
import { type ModelManifest, verifyModelManifest } from './model-integrity'

/** One model's manifest and weights. */
export interface ModelIntegrityEntry {
  /** The weights folder the endpoint loads. */
  folder: string
  manifest: ModelManifest
  /** Trusted Ed25519 public key (KeyObject or PEM). */
  publicKey: KeyObject | string
}

/** Options of {@link withModelIntegrity}. */
export interface ModelIntegrityOptions {
  /** Provider-specific model name -> its manifest. */
  models: Record<string, ModelIntegrityEntry>
  /**
   * Refuse models that have no manifest entry.
   * @default true
   */
  requireManifest?: boolean
}

/** Returns a provider that serves a model only after its weights verified. */
export function withModelIntegrity(
  provider: InferenceProvider,
  options: ModelIntegrityOptions,
): InferenceProvider {
  if (typeof options?.models !== 'object' || options.models === null) {
    throw new ContinuumError('CONTINUUM_INVALID_OPTIONS', 'withModelIntegrity: models must be an object')
  }
  const requireManifest = options.requireManifest ?? true
  const checks = new Map<string, Promise<void>>()
  const failed = new Set<string>()

  const verified = (model: string): Promise<void> => {
    let check = checks.get(model)
    if (check === undefined) {
      const entry = options.models[model]
      check =
        entry === undefined
          ? requireManifest
            ? Promise.reject(
                new ContinuumError(
                  'CONTINUUM_MODEL_INTEGRITY_FAILED',
                  `Model "${model}" has no signed manifest`,
                  {
                    details: { model, reason: 'missing', provider: provider.id },
                  },
                ),
              )
            : Promise.resolve()
          : verifyModelManifest(entry.manifest, {
              folder: entry.folder,
              publicKey: entry.publicKey,
              model,
            }).then(() => {})
      check.catch(() => failed.add(model))
      checks.set(model, check)
    }
    return check
  }

  return {
    specificationVersion: 'v1',
    id: provider.id,
    capabilities: provider.capabilities,
    async complete(request: CanonicalRequest) {
      await verified(request.model)
      return provider.complete(request)
    },
    async *stream(request: CanonicalRequest): AsyncIterable<StreamChunk> {
      await verified(request.model)
      yield* provider.stream(request)
    },
    async embed(request: EmbeddingRequest) {
      await verified(request.model)
      return provider.embed(request)
    },
    async health(signal?: AbortSignal): Promise<ProviderHealth> {
      const health = await provider.health(signal)
      if (failed.size === 0) return health
      return {
        ...health,
        status: 'unhealthy',
        detail: `model integrity failed: ${[...failed].sort().join(', ')}`,
      }
    },
    async close() {
      await provider.close?.()
    },
  }
}
