/**
 * The server side of CKKS: it holds uploaded evaluation keys per caller identity and key id
 * (the key id is checked to be the digest of the key material, so keys under an id cannot be
 * replaced), within per-identity quotas and a total that refuse rather than evict; it registers
 * stored matrices (embedding collections, linear layers), checks every ciphertext's envelope
 * (key id, parameter set) before any SEAL code sees it, and runs the products on an FheBackend
 * (a worker pool by default). It never holds a secret key and never sees a value. With a shared
 * `store` the uploaded bundles and the quotas live there (see shared-key-store.ts): keys uploaded
 * through one instance are loaded on demand by any other.
 */
import { type Clock, systemClock } from '../core/clock'
import type { Logger } from '../core/logger'
import { silentLogger } from '../core/logger'
import { ContinuumError } from '../errors'
import type { StateStore } from '../stores'
import { StoreFailureReporter } from '../stores/store-failure'
import type { FheBackend } from './backend'
import { decodeEnvelope, EnvelopeKind, encodeEnvelope, isValidKeyId, SectionTag } from './envelope'
import { type ParsedBundle, parseEvaluationBundle } from './evaluation-bundle'
import { resolveCompression } from './key-manager'
import { EvaluationKeyStore } from './key-store'
import { type LayoutMode, type MatrixLayout, planLayout, requiredGaloisSteps } from './layout'
import {
  type CkksParameters,
  type CkksPresetName,
  type ResolvedCkksParameters,
  resolveCkksParameters,
} from './params'
import type { Compression, EvaluationKeyBytes } from './seal-evaluator'
import { boundedSealObject } from './seal-object-bounds'
import { SharedKeyStore } from './shared-key-store'
import { WorkerPoolBackend } from './worker-pool-backend'

/** Options of {@link FheService}. */
export interface FheServiceOptions {
  /**
   * CKKS parameter set, a preset or a custom set checked against the 128-bit bounds. Ignored when
   * `backend` is given (the backend's set applies).
   * @default 'ckks-8192'
   */
  parameters?: CkksPresetName | CkksParameters
  /**
   * The compute backend.
   * @default a WorkerPoolBackend with `workers` threads
   */
  backend?: FheBackend
  /**
   * Worker threads of the default backend.
   * @default min(4, os.availableParallelism())
   */
  workers?: number
  /**
   * Total bytes of evaluation keys held. An upload past it is refused with 503
   * `CONTINUUM_FHE_KEY_STORE_FULL`; nothing is evicted to make room.
   * @default 268435456 (256 MiB)
   */
  keyCacheMaxBytes?: number
  /**
   * Bytes of evaluation keys one caller identity may hold, counted uncompressed (what the workers
   * hold, not what a compressed upload weighed). An upload past it is refused with 429
   * `CONTINUUM_FHE_KEY_QUOTA_EXCEEDED`, so one caller can fill only its own share.
   * @default 33554432 (32 MiB)
   */
  keyQuotaBytes?: number
  /**
   * Keys unused (no upload, no product) for this long are dropped.
   * @default 3600000 (one hour)
   */
  keyIdleMs?: number
  /**
   * A shared store (`continuum-proxy/redis`) holding the uploaded evaluation keys (public
   * material only) and the quotas for every instance: `keyQuotaBytes` and `keyCacheMaxBytes`
   * then hold for the fleet, and keys uploaded through one instance are loaded by another on
   * first use (checked again against their key id). Uploads and first uses need the store (503
   * CONTINUUM_STORE_UNAVAILABLE without it); keys already loaded keep working through an outage.
   * @default undefined (keys are held by this process only)
   */
  store?: StateStore
  /** @default systemClock */
  clock?: Clock
  /**
   * Largest evaluation-key upload accepted.
   * @default 8388608 (8 MiB)
   */
  maxKeyBytes?: number
  /**
   * Largest query ciphertext accepted.
   * @default 4194304 (4 MiB)
   */
  maxCiphertextBytes?: number
  /**
   * Compression of result ciphertexts.
   * @default 'zstd'
   */
  compression?: Compression
  /**
   * Content-free log lines (key ids, sizes, durations).
   * @default silentLogger
   */
  logger?: Logger
}

/** What the service knows about one stored matrix, published to clients. */
export interface StoredMatrixDescription {
  readonly id: string
  readonly kind: 'collection' | 'linear'
  readonly rows: number
  readonly dimension: number
  /** Rows were scaled to unit length at registration (dot product = cosine for unit queries). */
  readonly normalized: boolean
  /** Rotation steps the evaluation keys must cover. */
  readonly galoisSteps: readonly number[]
  readonly layouts: { readonly single: MatrixLayout; readonly batched?: MatrixLayout }
}

/** Result of a product: one ciphertext envelope per result block. */
export interface FheProductResult {
  readonly keyId: string
  readonly layout: MatrixLayout
  readonly results: Uint8Array[]
}

interface KeyEntry {
  readonly tag: string
  /** Bytes of the bundle as uploaded, which the shared store weighs it at. */
  readonly uploadBytes: number
  readonly keys: EvaluationKeyBytes
  readonly steps: ReadonlySet<number>
}

/** Who asks: the identity the HTTP handler's `authorize` hook gave. */
export interface FheCaller {
  /**
   * The caller's identity: keys are held, found and counted against quotas per identity.
   * @default 'anonymous'
   */
  readonly identity?: string
}

/** What an evaluation-key upload answers. */
export interface FheKeyUpload {
  /** The digest of the key material, which queries name. */
  readonly keyId: string
  readonly bytes: number
  readonly galoisSteps: number[]
  /** False when this identity already held exactly these keys (nothing was loaded again). */
  readonly created: boolean
}

const DEFAULT_KEY_CACHE = 256 * 1024 * 1024
const DEFAULT_KEY_QUOTA = 32 * 1024 * 1024
const ANONYMOUS = 'anonymous'

const identityOf = (caller: FheCaller | undefined): string => {
  const identity = caller?.identity ?? ANONYMOUS
  if (typeof identity !== 'string' || identity.length === 0 || identity.length > 256) {
    throw new ContinuumError('CONTINUUM_INVALID_OPTIONS', 'FheService: identity must be 1-256 characters')
  }
  return identity
}

const positiveInteger = (value: number | undefined, fallback: number, name: string): number => {
  const resolved = value ?? fallback
  if (!Number.isSafeInteger(resolved) || resolved < 1) {
    throw new ContinuumError('CONTINUUM_INVALID_OPTIONS', `FheService: ${name} must be a positive integer`)
  }
  return resolved
}

/** The server-side CKKS service. */
export class FheService {
  readonly parameters: ResolvedCkksParameters
  readonly maxKeyBytes: number
  readonly maxCiphertextBytes: number
  readonly #backend: FheBackend
  readonly #keys: EvaluationKeyStore<KeyEntry>
  readonly #matrices = new Map<string, StoredMatrixDescription>()
  readonly #compression: Compression
  readonly #logger: Logger
  readonly #shared: SharedKeyStore | undefined
  readonly #keyQuotaBytes: number
  #uploads = 0

  constructor(options: FheServiceOptions = {}) {
    const keyCacheMaxBytes = positiveInteger(options.keyCacheMaxBytes, DEFAULT_KEY_CACHE, 'keyCacheMaxBytes')
    const keyQuotaBytes = positiveInteger(
      options.keyQuotaBytes,
      Math.min(DEFAULT_KEY_QUOTA, keyCacheMaxBytes),
      'keyQuotaBytes',
    )
    const keyIdleMs = positiveInteger(options.keyIdleMs, 3_600_000, 'keyIdleMs')
    this.#keyQuotaBytes = keyQuotaBytes
    this.maxKeyBytes = positiveInteger(options.maxKeyBytes, 8 * 1024 * 1024, 'maxKeyBytes')
    this.maxCiphertextBytes = positiveInteger(
      options.maxCiphertextBytes,
      4 * 1024 * 1024,
      'maxCiphertextBytes',
    )
    if (this.maxKeyBytes > keyQuotaBytes || keyQuotaBytes > keyCacheMaxBytes) {
      throw new ContinuumError(
        'CONTINUUM_INVALID_OPTIONS',
        'FheService: maxKeyBytes <= keyQuotaBytes <= keyCacheMaxBytes must hold',
      )
    }
    this.#compression = resolveCompression(options.compression)
    this.#logger = options.logger ?? silentLogger
    if (options.backend !== undefined && options.backend.specificationVersion !== 'v1') {
      throw new ContinuumError(
        'CONTINUUM_INVALID_OPTIONS',
        'FheService: backend must implement FheBackend v1',
      )
    }
    this.#backend =
      options.backend ??
      new WorkerPoolBackend({
        parameters: resolveCkksParameters(options.parameters),
        workers: options.workers,
      })
    this.parameters = this.#backend.parameters
    const clock = options.clock ?? systemClock
    this.#shared =
      options.store === undefined
        ? undefined
        : new SharedKeyStore({
            store: options.store,
            quotaBytes: keyQuotaBytes,
            maxBytes: keyCacheMaxBytes,
            idleMs: keyIdleMs,
            failures: new StoreFailureReporter('fhe-keys', this.#logger, clock),
          })
    this.#keys = new EvaluationKeyStore<KeyEntry>({
      maxBytes: keyCacheMaxBytes,
      quotaBytes: keyQuotaBytes,
      idleMs: keyIdleMs,
      clock,
      release: (entry) => {
        this.#logger.debug({ keyId: entry.keyId, bytes: entry.bytes }, 'fhe evaluation keys released')
        this.#backend.dropEvaluationKeys(entry.value.tag).catch(() => {})
      },
    })
  }

  /** The public description served at `GET /v1/fhe/params`. */
  describe(): {
    scheme: 'ckks'
    securityLevel: 128
    parameters: ResolvedCkksParameters
    collections: StoredMatrixDescription[]
  } {
    return {
      scheme: 'ckks',
      securityLevel: 128,
      parameters: this.parameters,
      collections: [...this.#matrices.values()],
    }
  }

  /** The description of a stored matrix; `CONTINUUM_FHE_COLLECTION_UNKNOWN` when absent. */
  matrix(id: string, kind: 'collection' | 'linear'): StoredMatrixDescription {
    const description = this.#matrices.get(`${kind}:${id}`)
    if (description === undefined) {
      throw new ContinuumError(
        'CONTINUUM_FHE_COLLECTION_UNKNOWN',
        `No ${kind === 'linear' ? 'linear layer' : 'collection'} "${id}" is registered`,
      )
    }
    return description
  }

  /** Stores an embedding collection; `normalize` scales rows to unit length so scores are cosines. */
  registerCollection(
    id: string,
    vectors: ReadonlyArray<ArrayLike<number>>,
    options: { normalize?: boolean } = {},
  ): Promise<StoredMatrixDescription> {
    return this.#register(id, 'collection', vectors, undefined, options.normalize ?? false)
  }

  /** Stores a linear layer y = W·x + b (W given as rows of outputs × inputs). */
  registerLinearLayer(
    id: string,
    layer: { weights: ReadonlyArray<ArrayLike<number>>; bias?: ArrayLike<number> },
  ): Promise<StoredMatrixDescription> {
    return this.#register(id, 'linear', layer.weights, layer.bias, false)
  }

  async #register(
    id: string,
    kind: 'collection' | 'linear',
    vectors: ReadonlyArray<ArrayLike<number>>,
    bias: ArrayLike<number> | undefined,
    normalize: boolean,
  ): Promise<StoredMatrixDescription> {
    if (!isValidKeyId(id))
      throw new ContinuumError(
        'CONTINUUM_INVALID_OPTIONS',
        `FheService: ${kind} id must be 1-128 of A-Z a-z 0-9 . _ : -`,
      )
    const rows = vectors.length
    const dimension = vectors[0]?.length ?? 0
    const single = planLayout(rows, dimension, this.parameters.slotCount, 'single')
    const values = new Float64Array(rows * dimension)
    vectors.forEach((vector, row) => {
      if (vector.length !== dimension) {
        throw new ContinuumError(
          'CONTINUUM_FHE_SIZE_MISMATCH',
          `Row ${row} has ${vector.length} values, expected ${dimension}`,
        )
      }
      let norm = 0
      for (let column = 0; column < dimension; column++) {
        const value = Number(vector[column])
        if (!Number.isFinite(value))
          throw new ContinuumError('CONTINUUM_FHE_SIZE_MISMATCH', `Row ${row} holds a non-finite value`)
        values[row * dimension + column] = value
        norm += value * value
      }
      if (normalize) {
        if (norm === 0)
          throw new ContinuumError(
            'CONTINUUM_FHE_SIZE_MISMATCH',
            `Row ${row} is a zero vector and cannot be normalised`,
          )
        const scale = 1 / Math.sqrt(norm)
        for (let column = 0; column < dimension; column++) values[row * dimension + column]! *= scale
      }
    })
    let biasValues: Float64Array | undefined
    if (bias !== undefined) {
      if (bias.length !== rows)
        throw new ContinuumError(
          'CONTINUUM_FHE_SIZE_MISMATCH',
          `Bias has ${bias.length} values, expected ${rows}`,
        )
      biasValues = Float64Array.from(bias, Number)
    }
    const batchedFits = rows + single.paddedDimension - 1 <= this.parameters.slotCount / 2
    const modes: LayoutMode[] = batchedFits ? ['single', 'batched'] : ['single']
    const matrixId = `${kind}:${id}`
    await this.#backend.setMatrix(matrixId, { rows, dimension, values, bias: biasValues, modes })
    const description: StoredMatrixDescription = {
      id,
      kind,
      rows,
      dimension,
      normalized: normalize,
      galoisSteps: requiredGaloisSteps(dimension),
      layouts: batchedFits
        ? { single, batched: planLayout(rows, dimension, this.parameters.slotCount, 'batched') }
        : { single },
    }
    this.#matrices.set(matrixId, description)
    return description
  }

  /**
   * Accepts an evaluation-key bundle (from FheKeyManager.evaluationKeys) and files it under its
   * key id for the caller. The key id must be the digest of the bundle's key material
   * (`CONTINUUM_FHE_KEY_ID_UNBOUND` otherwise); an identity uploading keys it already holds
   * only refreshes them.
   */
  async uploadEvaluationKeys(bundle: Uint8Array, caller?: FheCaller): Promise<FheKeyUpload> {
    const identity = identityOf(caller)
    if (bundle.byteLength > this.maxKeyBytes) {
      throw new ContinuumError('CONTINUUM_BODY_TOO_LARGE', `Evaluation keys over ${this.maxKeyBytes} bytes`, {
        details: { limit: this.maxKeyBytes },
      })
    }
    // Inflated no further than the quota: keys larger than that could never be held.
    const parsed = parseEvaluationBundle(bundle, this.parameters, this.#keyQuotaBytes)
    const answer = { keyId: parsed.keyId, bytes: bundle.byteLength, galoisSteps: parsed.galoisSteps }
    // Same id, same bytes: keys already held need no second load.
    if (this.#keys.get(identity, parsed.keyId) !== undefined) {
      if ((await this.#shared?.renew(identity, parsed.keyId, bundle.byteLength)) !== false) {
        return { ...answer, created: false }
      }
      this.#keys.delete(identity, parsed.keyId)
    }
    // Copied out of the request buffer, so neither store pins a larger body.
    await this.#shared?.put(identity, parsed.keyId, Uint8Array.from(bundle))
    await this.#load(identity, parsed, bundle.byteLength)
    this.#logger.info({ keyId: parsed.keyId, bytes: bundle.byteLength }, 'fhe evaluation keys uploaded')
    return { ...answer, created: true }
  }

  /**
   * Loads checked keys into the backend and files them for the caller in this process, counted at
   * their inflated size: what the workers hold, not what a compressed upload weighed.
   */
  async #load(identity: string, parsed: ParsedBundle, uploadBytes: number): Promise<KeyEntry> {
    const bytes = Math.max(uploadBytes, parsed.bytes)
    this.#keys.reserve(identity, bytes)
    let stored = false
    try {
      const tag = `${parsed.keyId}#${++this.#uploads}`
      await this.#backend.loadEvaluationKeys(tag, parsed.keys)
      // Held keys: the Galois and relinearisation keys; the public key was only checked.
      const value: KeyEntry = {
        tag,
        uploadBytes,
        keys: { ...parsed.keys, publicKey: undefined },
        steps: new Set(parsed.galoisSteps),
      }
      this.#keys.commit({ identity, keyId: parsed.keyId, bytes, value })
      stored = true
      return value
    } finally {
      if (!stored) this.#keys.unreserve(identity, bytes)
    }
  }

  /**
   * The caller's keys for a product: loaded here already (and, when shared, still in the store),
   * or fetched from the shared store and checked; undefined when the caller holds none.
   */
  async #keysFor(identity: string, keyId: string): Promise<KeyEntry | undefined> {
    const held = this.#keys.get(identity, keyId)
    const shared = this.#shared
    if (shared === undefined) return held?.value
    if (held !== undefined) {
      if (await shared.renew(identity, keyId, held.value.uploadBytes)) return held.value
      // Deleted through another instance (or expired there): gone here too.
      this.#keys.delete(identity, keyId)
      return undefined
    }
    const bundle = await shared.fetch(identity, keyId)
    if (bundle === undefined) return undefined
    const parsed = parseEvaluationBundle(bundle, this.parameters, this.#keyQuotaBytes)
    if (parsed.keyId !== keyId) {
      throw new ContinuumError(
        'CONTINUUM_FHE_KEY_ID_UNBOUND',
        'The shared store holds other keys under this key id',
      )
    }
    this.#logger.debug(
      {
        keyId,
        bytes: bundle.byteLength,
      },
      'fhe evaluation keys loaded from the shared store',
    )
    return this.#keys.get(identity, keyId)?.value ?? (await this.#load(identity, parsed, bundle.byteLength))
  }

  /**
   * Drops the caller's evaluation keys under a key id (in the shared store too, so every instance
   * stops using them at its next product); false when it held none.
   */
  async deleteEvaluationKeys(keyId: string, caller?: FheCaller): Promise<boolean> {
    const identity = identityOf(caller)
    const local = this.#keys.delete(identity, keyId)
    const shared = (await this.#shared?.remove(identity, keyId)) ?? false
    return local || shared
  }

  /** Whether the caller holds evaluation keys under a key id in this process. */
  hasEvaluationKeys(keyId: string, caller?: FheCaller): boolean {
    return this.#keys.get(identityOf(caller), keyId) !== undefined
  }

  /** Bytes of evaluation keys the caller holds in this process, against its `keyQuotaBytes`. */
  keyUsage(caller?: FheCaller): number {
    return this.#keys.usage(identityOf(caller))
  }

  /** Scores an encrypted query (or a batch) against a stored collection. */
  similarity(
    request: { keyId: string; collection: string; query: Uint8Array; layout?: LayoutMode },
    caller?: FheCaller,
  ): Promise<FheProductResult> {
    return this.#product(
      identityOf(caller),
      request.keyId,
      this.matrix(request.collection, 'collection'),
      request.query,
      request.layout ?? 'single',
    )
  }

  /** Applies a stored linear layer to an encrypted input vector. */
  linear(
    request: { keyId: string; layer: string; input: Uint8Array },
    caller?: FheCaller,
  ): Promise<FheProductResult> {
    return this.#product(
      identityOf(caller),
      request.keyId,
      this.matrix(request.layer, 'linear'),
      request.input,
      'single',
    )
  }

  async #product(
    identity: string,
    keyId: string,
    matrix: StoredMatrixDescription,
    ciphertext: Uint8Array,
    mode: LayoutMode,
  ): Promise<FheProductResult> {
    if (ciphertext.byteLength > this.maxCiphertextBytes) {
      throw new ContinuumError(
        'CONTINUUM_BODY_TOO_LARGE',
        `Ciphertext over ${this.maxCiphertextBytes} bytes`,
        {
          details: { limit: this.maxCiphertextBytes },
        },
      )
    }
    const layout = matrix.layouts[mode]
    if (layout === undefined) {
      throw new ContinuumError(
        'CONTINUUM_FHE_BATCH_TOO_LARGE',
        `Collection "${matrix.id}" is too large for the batched layout`,
      )
    }
    const envelope = decodeEnvelope(ciphertext, EnvelopeKind.ciphertext)
    if (envelope.fingerprint !== this.parameters.fingerprint) {
      throw new ContinuumError(
        'CONTINUUM_FHE_PARAMETER_MISMATCH',
        'The ciphertext was made for another CKKS parameter set',
      )
    }
    if (envelope.keyId !== keyId) {
      throw new ContinuumError(
        'CONTINUUM_FHE_KEY_MISMATCH',
        'The ciphertext names another key id than the request',
      )
    }
    const input = envelope.sections.get(SectionTag.ciphertext)
    if (input === undefined)
      throw new ContinuumError('CONTINUUM_FHE_MALFORMED_PAYLOAD', 'The envelope holds no ciphertext')
    // Only the caller's own keys: another identity's id finds nothing.
    const entry = await this.#keysFor(identity, keyId)
    if (entry === undefined) {
      throw new ContinuumError(
        'CONTINUUM_FHE_KEYS_UNKNOWN',
        'No evaluation keys are held for this key id; upload them',
      )
    }
    const missing = matrix.galoisSteps.filter((step) => !entry.steps.has(step))
    if (missing.length > 0) {
      throw new ContinuumError(
        'CONTINUUM_FHE_ROTATION_KEY_MISSING',
        `Evaluation keys lack rotation steps ${missing.join(', ')}`,
        {
          details: { requiredGaloisSteps: [...matrix.galoisSteps] },
        },
      )
    }
    const started = performance.now()
    const blocks = await this.#backend.evaluate({
      keyTag: entry.tag,
      keys: entry.keys,
      matrixId: `${matrix.kind}:${matrix.id}`,
      mode,
      // Inflated here within a ciphertext's bound: SEAL would inflate a bomb without limit.
      input: boundedSealObject(input, { kind: 'ciphertext' }, this.parameters),
      compression: this.#compression,
    })
    this.#logger.debug(
      {
        keyId,
        matrix: matrix.id,
        blocks: blocks.length,
        milliseconds: Math.round(performance.now() - started),
      },
      'fhe product evaluated',
    )
    const results = blocks.map((block) =>
      encodeEnvelope(EnvelopeKind.ciphertext, this.parameters.fingerprint, keyId, [
        [SectionTag.ciphertext, block],
      ]),
    )
    return { keyId, layout, results }
  }

  /** Stops the backend's threads. */
  async close(): Promise<void> {
    this.#keys.clear()
    await this.#backend.close()
  }
}
