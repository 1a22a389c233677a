/**
 * The client side of CKKS: it generates the secret key and never sends it; it exports it (for the
 * client's own storage) and imports it back, rotates to a fresh key pair, and builds the
 * evaluation key bundle the server needs: only the Galois steps asked for, in SEAL's seeded form
 * (half the bytes), compressed. The bundle's key id is the digest of its key material, so the
 * server can check it and nobody can upload other keys under it; ciphertexts made afterwards are
 * stamped with it. It also encrypts queries (symmetric, seeded: half the bytes of a public-key
 * ciphertext) and decrypts results.
 */
import type { ComprModeType, Encryptor, KeyGenerator, PublicKey, SecretKey } from 'node-seal'
import { ContinuumError } from '../errors'
import {
  decodeEnvelope,
  EnvelopeKind,
  encodeEnvelope,
  encodeSteps,
  evaluationKeyId,
  isValidKeyId,
  SectionTag,
} from './envelope'
import { type MatrixLayout, packQueries, unpackScores } from './layout'
import {
  type CkksParameters,
  type CkksPresetName,
  type ResolvedCkksParameters,
  resolveCkksParameters,
} from './params'
import type { Compression } from './seal-evaluator'
import { createSealContext, type SealContext, sealFailure } from './seal-runtime'

/** Options of {@link FheKeyManager.generate}. */
export interface FheKeyManagerOptions {
  /**
   * CKKS parameter set: a preset name or a custom set (checked against the 128-bit bounds).
   * @default 'ckks-8192'
   */
  parameters?: CkksPresetName | CkksParameters
  /**
   * Compression of serialized keys and ciphertexts.
   * @default 'zstd'
   */
  compression?: Compression
}

/** Options of {@link FheKeyManager.evaluationKeys}. */
export interface EvaluationKeyOptions {
  /** Rotation steps the server's operations need (`GET /v1/fhe/params` lists them). */
  galoisSteps: readonly number[]
  /**
   * Include the public key (lets the server encrypt constants; the shipped operations do not need it).
   * @default true
   */
  publicKey?: boolean
  /**
   * Include relinearisation keys (needed for ciphertext × ciphertext products).
   * @default true
   */
  relinKeys?: boolean
}

/** How many evaluation-key ids a key pair remembers for `decrypt`. */
const ISSUED_IDS = 16

/** A client's CKKS key pair. Call `dispose()` when done: it releases WASM memory. */
export class FheKeyManager {
  readonly parameters: ResolvedCkksParameters
  #keyId: string
  /** Key ids of bundles made from this key pair, newest last: results under any of them decrypt. */
  readonly #issued: string[]
  readonly #context: SealContext
  readonly #keyGenerator: KeyGenerator
  readonly #secretKey: SecretKey
  readonly #publicKey: PublicKey
  readonly #encryptor: Encryptor
  readonly #compression: Compression

  private constructor(
    context: SealContext,
    issued: readonly string[],
    secretKey: SecretKey | undefined,
    compression: Compression,
  ) {
    const { seal } = context
    this.#context = context
    this.parameters = context.parameters
    this.#compression = compression
    this.#keyGenerator =
      secretKey === undefined
        ? new seal.KeyGenerator(context.context)
        : new seal.KeyGenerator(context.context, secretKey)
    this.#secretKey = this.#keyGenerator.secretKey()
    this.#publicKey = this.#keyGenerator.createPublicKey()
    this.#encryptor = new seal.Encryptor(context.context, this.#publicKey, this.#secretKey)
    // Before any bundle is made, the id is the digest of the public key: local use only.
    this.#issued = issued.length > 0 ? [...issued] : [this.#publicKeyId()]
    this.#keyId = this.#issued.at(-1)!
  }

  /**
   * The key id ciphertexts are stamped with: that of the last evaluation-key bundle made (the
   * digest of its key material, which the server files it under), or, before any, of the public key.
   */
  get keyId(): string {
    return this.#keyId
  }

  #publicKeyId(): string {
    const bytes = this.#publicKey.saveToArray(this.#context.seal.ComprModeType.none) as Uint8Array
    return evaluationKeyId(this.parameters.fingerprint, [[SectionTag.publicKey, bytes]])
  }

  /** Generates a fresh key pair. */
  static async generate(options: FheKeyManagerOptions = {}): Promise<FheKeyManager> {
    const compression = resolveCompression(options.compression)
    const context = await createSealContext(resolveCkksParameters(options.parameters))
    return new FheKeyManager(context, [], undefined, compression)
  }

  /** Restores a key pair from {@link exportSecretKey} output; the parameter set must match. */
  static async import(
    exported: Uint8Array,
    options: Pick<FheKeyManagerOptions, 'parameters' | 'compression'> = {},
  ): Promise<FheKeyManager> {
    const parameters = resolveCkksParameters(options.parameters)
    const envelope = decodeEnvelope(exported, EnvelopeKind.secretKey)
    if (envelope.fingerprint !== parameters.fingerprint) {
      throw new ContinuumError(
        'CONTINUUM_FHE_PARAMETER_MISMATCH',
        'The exported key belongs to another CKKS parameter set',
      )
    }
    const secretBytes = envelope.sections.get(SectionTag.secretKey)
    if (secretBytes === undefined)
      throw new ContinuumError('CONTINUUM_FHE_MALFORMED_PAYLOAD', 'The export holds no secret key')
    const issuedBytes = envelope.sections.get(SectionTag.issuedKeyIds)
    const issued =
      issuedBytes === undefined ? [] : Buffer.from(issuedBytes).toString('utf8').split('\n').filter(Boolean)
    if (issued.length > ISSUED_IDS || !issued.every(isValidKeyId)) {
      throw new ContinuumError('CONTINUUM_FHE_MALFORMED_PAYLOAD', 'The export lists malformed key ids')
    }
    // The current id last, as it was exported.
    const ids = [...issued.filter((id) => id !== envelope.keyId), envelope.keyId]
    const context = await createSealContext(parameters)
    const secretKey = new context.seal.SecretKey()
    try {
      secretKey.loadFromArray(context.context, secretBytes)
      return new FheKeyManager(context, ids, secretKey, resolveCompression(options.compression))
    } catch (error) {
      context.dispose()
      throw sealFailure(error, 'CONTINUUM_FHE_MALFORMED_PAYLOAD', 'Loading the secret key')
    } finally {
      secretKey.delete()
    }
  }

  /** The secret key in an envelope, for the client's own key storage. Never send it to a server. */
  exportSecretKey(): Uint8Array {
    const bytes = this.#secretKey.saveToArray(
      this.#context.seal.ComprModeType[this.#compression],
    ) as Uint8Array
    return encodeEnvelope(EnvelopeKind.secretKey, this.parameters.fingerprint, this.keyId, [
      [SectionTag.secretKey, bytes],
      [SectionTag.issuedKeyIds, Buffer.from(this.#issued.join('\n'))],
    ])
  }

  /** A fresh key pair (so fresh key ids); this one stays usable until disposed. */
  rotate(): Promise<FheKeyManager> {
    return FheKeyManager.generate({ parameters: this.parameters, compression: this.#compression })
  }

  /**
   * The evaluation-key bundle to upload (`POST /v1/fhe/keys`): seeded, compressed, minimal steps.
   * Its key id is the digest of its key material and becomes this key pair's `keyId`: SEAL draws
   * fresh randomness for every bundle, so each call makes another id (results under the earlier
   * ones still decrypt).
   */
  evaluationKeys(options: EvaluationKeyOptions): Uint8Array {
    const { seal } = this.#context
    const mode = seal.ComprModeType[this.#compression]
    const steps = [...new Set(options.galoisSteps)].sort((left, right) => left - right)
    for (const step of steps) {
      if (!Number.isInteger(step) || step === 0 || Math.abs(step) >= this.parameters.slotCount) {
        throw new ContinuumError(
          'CONTINUUM_INVALID_OPTIONS',
          `Galois step ${step} is not a rotation of this parameter set`,
        )
      }
    }
    const sections: [number, Uint8Array][] = []
    const save = (serializable: {
      saveToArray(mode: ComprModeType): unknown
      delete(): void
    }): Uint8Array => {
      try {
        return serializable.saveToArray(mode) as Uint8Array
      } finally {
        serializable.delete()
      }
    }
    if (options.publicKey ?? true)
      sections.push([SectionTag.publicKey, save(this.#keyGenerator.createPublicKeySerializable())])
    if (options.relinKeys ?? true)
      sections.push([SectionTag.relinKeys, save(this.#keyGenerator.createRelinKeysSerializable())])
    if (steps.length > 0) {
      const galois = this.#keyGenerator.createGaloisKeysSerializableWithSteps(Int32Array.from(steps))
      sections.push([SectionTag.galoisKeys, save(galois)], [SectionTag.galoisSteps, encodeSteps(steps)])
    }
    const keyId = evaluationKeyId(this.parameters.fingerprint, sections)
    this.#issued.push(keyId)
    if (this.#issued.length > ISSUED_IDS) this.#issued.shift()
    this.#keyId = keyId
    return encodeEnvelope(EnvelopeKind.evaluationKeys, this.parameters.fingerprint, keyId, sections)
  }

  /** Encrypts raw slot values (at most slotCount) into a ciphertext envelope. */
  encrypt(values: ArrayLike<number>): Uint8Array {
    const { seal, encoder } = this.#context
    if (values.length > this.parameters.slotCount) {
      throw new ContinuumError(
        'CONTINUUM_FHE_SIZE_MISMATCH',
        `At most ${this.parameters.slotCount} values fit one ciphertext`,
      )
    }
    const plaintext = new seal.Plaintext()
    try {
      encoder.encode(Float64Array.from(values), this.parameters.scale, plaintext)
      const serializable = this.#encryptor.encryptSymmetricSerializable(plaintext)
      try {
        const bytes = serializable.saveToArray(seal.ComprModeType[this.#compression]) as Uint8Array
        return encodeEnvelope(EnvelopeKind.ciphertext, this.parameters.fingerprint, this.keyId, [
          [SectionTag.ciphertext, bytes],
        ])
      } finally {
        serializable.delete()
      }
    } finally {
      plaintext.delete()
    }
  }

  /** Packs and encrypts one query (single layout) or several (batched layout) for a stored matrix. */
  encryptQueries(layout: MatrixLayout, queries: ReadonlyArray<ArrayLike<number>>): Uint8Array {
    if (layout.slotCount !== this.parameters.slotCount) {
      throw new ContinuumError(
        'CONTINUUM_FHE_PARAMETER_MISMATCH',
        'The layout was planned for another parameter set',
      )
    }
    return this.encrypt(packQueries(layout, queries))
  }

  /** Decrypts a ciphertext envelope made for this key into its slot values. */
  decrypt(envelopeBytes: Uint8Array): Float64Array {
    const { seal, context, encoder } = this.#context
    const envelope = decodeEnvelope(envelopeBytes, EnvelopeKind.ciphertext)
    if (envelope.fingerprint !== this.parameters.fingerprint) {
      throw new ContinuumError(
        'CONTINUUM_FHE_PARAMETER_MISMATCH',
        'The ciphertext belongs to another CKKS parameter set',
      )
    }
    if (!this.#issued.includes(envelope.keyId)) {
      throw new ContinuumError('CONTINUUM_FHE_KEY_MISMATCH', 'The ciphertext was made for another key id')
    }
    const bytes = envelope.sections.get(SectionTag.ciphertext)
    if (bytes === undefined)
      throw new ContinuumError('CONTINUUM_FHE_MALFORMED_PAYLOAD', 'The envelope holds no ciphertext')
    const ciphertext = new seal.Ciphertext()
    const plaintext = new seal.Plaintext()
    const decryptor = new seal.Decryptor(context, this.#secretKey)
    try {
      ciphertext.loadFromArray(context, bytes)
      decryptor.decrypt(ciphertext, plaintext)
      return Float64Array.from(encoder.decodeFloat64(plaintext) as ArrayLike<number>)
    } catch (error) {
      throw sealFailure(error, 'CONTINUUM_FHE_MALFORMED_PAYLOAD', 'Decrypting the ciphertext')
    } finally {
      decryptor.delete()
      plaintext.delete()
      ciphertext.delete()
    }
  }

  /** Decrypts the result blocks of a product and returns each query's row scores. */
  decryptScores(layout: MatrixLayout, results: readonly Uint8Array[], queryCount = 1): Float64Array[] {
    if (results.length !== layout.blocks) {
      throw new ContinuumError(
        'CONTINUUM_FHE_SIZE_MISMATCH',
        `Expected ${layout.blocks} result blocks, got ${results.length}`,
      )
    }
    return unpackScores(
      layout,
      results.map((result) => this.decrypt(result)),
      queryCount,
    )
  }

  /** Releases every SEAL object of this key pair. */
  dispose(): void {
    this.#encryptor.delete()
    this.#publicKey.delete()
    this.#secretKey.delete()
    this.#keyGenerator.delete()
    this.#context.dispose()
  }
}

/** Validates a compression option. */
export function resolveCompression(compression: Compression | undefined): Compression {
  const value = compression ?? 'zstd'
  if (value !== 'none' && value !== 'zlib' && value !== 'zstd') {
    throw new ContinuumError('CONTINUUM_INVALID_OPTIONS', 'compression must be none, zlib or zstd')
  }
  return value
}
