/**
 * The CKKS work itself, on one thread: load evaluation keys, pre-encode stored matrices into
 * diagonal plaintexts once, and evaluate encrypted-vector × matrix products (baby-step giant-step,
 * see layout.ts). Workers each own one of these; tests and single-threaded hosts can use one
 * directly. Every SEAL object created here is released, on success and on failure (those kept
 * with a matrix, its diagonals and encoded bias, when the matrix goes), so heavy traffic leaves
 * the WASM heap flat.
 */
import type { Ciphertext, ComprModeType, GaloisKeys, ParmsIdType, Plaintext } from 'node-seal'
import { ContinuumError } from '../errors'
import { biasValues, diagonalValues, type LayoutMode, type MatrixLayout, planLayout } from './layout'
import type { ResolvedCkksParameters } from './params'
import { boundedSealObject } from './seal-object-bounds'
import { createSealContext, galoisElement, type SealContext, sealFailure } from './seal-runtime'

/** Serialization compression of SEAL objects. */
export type Compression = 'none' | 'zlib' | 'zstd'

/** A matrix to pre-encode: rows × dimension values, row-major; an optional bias per row. */
export interface MatrixSpec {
  readonly rows: number
  readonly dimension: number
  readonly values: Float64Array
  readonly bias?: Float64Array | undefined
  readonly modes: readonly LayoutMode[]
}

/** SEAL bytes of an evaluation-key bundle, as parsed from its envelope. */
export interface EvaluationKeyBytes {
  readonly galoisKeys?: Uint8Array | undefined
  readonly galoisSteps: readonly number[]
  readonly relinKeys?: Uint8Array | undefined
  readonly publicKey?: Uint8Array | undefined
}

/** One slice of a product: giant steps [giantStart, giantEnd) of one result block. */
export interface UnitRequest {
  readonly keyTag: string
  readonly matrixId: string
  readonly mode: LayoutMode
  /** SEAL bytes of the query ciphertext. */
  readonly input: Uint8Array
  readonly block: number
  readonly giantStart: number
  readonly giantEnd: number
  /** When true the unit covers the whole block: add the bias and serialize with `compression`. */
  readonly finalize: boolean
  readonly compression: Compression
}

/** Sums the partial results of one block and adds the bias. */
export interface CombineRequest {
  readonly matrixId: string
  readonly mode: LayoutMode
  readonly block: number
  readonly partials: readonly Uint8Array[]
  readonly compression: Compression
}

interface EncodedLayout {
  readonly layout: MatrixLayout
  /** plaintexts[block][giant][baby], undefined where the diagonal is all zeros. */
  readonly plaintexts: (Plaintext | undefined)[][][]
  /** Per block, the bias as last added to a result: encoded at that result's scale, last level. */
  readonly biasPlaintexts: ({ readonly scale: number; readonly plaintext: Plaintext } | undefined)[]
}

interface EncodedMatrix {
  readonly layouts: Map<LayoutMode, EncodedLayout>
  readonly bias: Float64Array | undefined
}

interface LoadedKeys {
  readonly galois: GaloisKeys | undefined
  readonly steps: ReadonlySet<number>
}

/** Single-thread CKKS evaluator. */
export class SealEvaluator {
  readonly #context: SealContext
  readonly #keys = new Map<string, LoadedKeys>()
  readonly #matrices = new Map<string, EncodedMatrix>()
  readonly #firstParms: string
  readonly #compression: Record<Compression, ComprModeType>

  private constructor(context: SealContext) {
    this.#context = context
    const firstParms = context.context.firstParmsId()
    this.#firstParms = parmsKey(firstParms)
    firstParms.delete()
    const { ComprModeType } = context.seal
    this.#compression = { none: ComprModeType.none, zlib: ComprModeType.zlib, zstd: ComprModeType.zstd }
  }

  /** Creates an evaluator with its own SEAL context. */
  static async create(parameters: ResolvedCkksParameters): Promise<SealEvaluator> {
    return new SealEvaluator(await createSealContext(parameters))
  }

  get parameters(): ResolvedCkksParameters {
    return this.#context.parameters
  }

  /**
   * Loads and checks an evaluation-key bundle; the Galois keys must hold every declared step and
   * no more keys than steps. Each part is bounded before SEAL inflates it (seal-object-bounds.ts).
   */
  loadEvaluationKeys(keyTag: string, keys: EvaluationKeyBytes): void {
    const { seal, context } = this.#context
    this.dropEvaluationKeys(keyTag)
    let galois: GaloisKeys | undefined
    const bounded = (bytes: Uint8Array, maxKeys?: number) =>
      boundedSealObject(
        bytes,
        maxKeys === undefined ? { kind: 'ciphertext' } : { kind: 'switchKeys', maxKeys },
        this.parameters,
      )
    try {
      const { publicKey, relinKeys, galoisKeys } = keys
      if (publicKey !== undefined)
        using(new seal.PublicKey(), (key) => key.loadFromArray(context, bounded(publicKey)))
      if (relinKeys !== undefined)
        using(new seal.RelinKeys(), (key) => key.loadFromArray(context, bounded(relinKeys, 1)))
      if (galoisKeys !== undefined) {
        const checked = bounded(galoisKeys, keys.galoisSteps.length)
        galois = new seal.GaloisKeys()
        galois.loadFromArray(context, checked)
        for (const step of keys.galoisSteps) {
          if (!galois.hasKey(galoisElement(step, this.parameters.polyModulusDegree))) {
            throw new ContinuumError(
              'CONTINUUM_FHE_MALFORMED_PAYLOAD',
              `Galois keys do not hold the declared step ${step}`,
            )
          }
        }
      }
    } catch (error) {
      galois?.delete()
      throw sealFailure(error, 'CONTINUUM_FHE_MALFORMED_PAYLOAD', 'Loading evaluation keys')
    }
    this.#keys.set(keyTag, { galois, steps: new Set(keys.galoisSteps) })
  }

  /** Releases the keys of a tag. */
  dropEvaluationKeys(keyTag: string): void {
    this.#keys.get(keyTag)?.galois?.delete()
    this.#keys.delete(keyTag)
  }

  /** Whether keys of a tag are loaded. */
  hasEvaluationKeys(keyTag: string): boolean {
    return this.#keys.has(keyTag)
  }

  /** Pre-encodes a matrix's diagonals for each requested layout mode (replacing any earlier one). */
  setMatrix(matrixId: string, spec: MatrixSpec): void {
    this.dropMatrix(matrixId)
    const { seal, encoder } = this.#context
    const encoded: EncodedMatrix = { layouts: new Map(), bias: spec.bias }
    this.#matrices.set(matrixId, encoded)
    try {
      for (const mode of spec.modes) {
        const layout = planLayout(spec.rows, spec.dimension, this.parameters.slotCount, mode)
        const plaintexts: (Plaintext | undefined)[][][] = []
        encoded.layouts.set(mode, { layout, plaintexts, biasPlaintexts: [] })
        for (let block = 0; block < layout.blocks; block++) {
          const perGiant: (Plaintext | undefined)[][] = []
          plaintexts.push(perGiant)
          let nonZero = false
          for (let giant = 0; giant < layout.giantSteps; giant++) {
            const perBaby: (Plaintext | undefined)[] = []
            perGiant.push(perBaby)
            for (let baby = 0; baby < layout.babyStep; baby++) {
              const values = diagonalValues(layout, spec.values, block, giant, baby)
              if (values === undefined) {
                perBaby.push(undefined)
                continue
              }
              const plaintext = new seal.Plaintext()
              perBaby.push(plaintext)
              encoder.encode(values, this.parameters.scale, plaintext)
              nonZero = true
            }
          }
          if (!nonZero) {
            throw new ContinuumError(
              'CONTINUUM_FHE_SIZE_MISMATCH',
              `Block ${block} of the matrix is all zeros`,
            )
          }
        }
      }
    } catch (error) {
      this.dropMatrix(matrixId)
      throw sealFailure(error, 'CONTINUUM_FHE_OPERATION_FAILED', 'Encoding the matrix')
    }
  }

  /** Releases a matrix's plaintexts. */
  dropMatrix(matrixId: string): void {
    const matrix = this.#matrices.get(matrixId)
    if (matrix === undefined) return
    for (const { plaintexts, biasPlaintexts } of matrix.layouts.values()) {
      for (const perGiant of plaintexts)
        for (const perBaby of perGiant) for (const plaintext of perBaby) plaintext?.delete()
      for (const cached of biasPlaintexts) cached?.plaintext.delete()
    }
    this.#matrices.delete(matrixId)
  }

  /** The layout of a registered matrix in a mode. */
  layoutOf(matrixId: string, mode: LayoutMode): MatrixLayout {
    return this.#encoded(matrixId, mode).layout
  }

  #encoded(matrixId: string, mode: LayoutMode): EncodedLayout {
    const encoded = this.#matrices.get(matrixId)?.layouts.get(mode)
    if (encoded === undefined) {
      throw new ContinuumError(
        'CONTINUUM_FHE_COLLECTION_UNKNOWN',
        `Matrix "${matrixId}" is not registered for ${mode} layout`,
      )
    }
    return encoded
  }

  /** Evaluates one unit and returns the serialized (rescaled) partial or final block. */
  runUnit(request: UnitRequest): Uint8Array {
    const { seal, evaluator } = this.#context
    const encoded = this.#encoded(request.matrixId, request.mode)
    const { layout, plaintexts } = encoded
    const keys = this.#keys.get(request.keyTag)
    if (keys === undefined) {
      throw new ContinuumError('CONTINUUM_FHE_KEYS_UNKNOWN', 'No evaluation keys are loaded for this key id')
    }
    const needed = [layout.babyStep > 1 ? 1 : 0, layout.giantSteps > 1 ? layout.babyStep : 0].filter(
      (step) => step > 0,
    )
    const missing = needed.filter((step) => !keys.steps.has(step))
    if (missing.length > 0 || (needed.length > 0 && keys.galois === undefined)) {
      throw new ContinuumError(
        'CONTINUUM_FHE_ROTATION_KEY_MISSING',
        `Evaluation keys lack rotation steps ${missing.join(', ')}`,
        {
          details: { requiredGaloisSteps: needed },
        },
      )
    }
    const owned: Ciphertext[] = []
    const track = (ciphertext: Ciphertext): Ciphertext => {
      owned.push(ciphertext)
      return ciphertext
    }
    try {
      const input = track(this.#loadQuery(request.input))
      const galois = keys.galois as GaloisKeys
      const babies: Ciphertext[] = [input]
      for (let baby = 1; baby < layout.babyStep; baby++) {
        const rotated = track(new seal.Ciphertext())
        evaluator.rotateVector(babies[baby - 1]!, 1, galois, rotated)
        babies.push(rotated)
      }
      const product = track(new seal.Ciphertext())
      let accumulator: Ciphertext | undefined
      for (let giant = request.giantEnd - 1; giant >= request.giantStart; giant--) {
        let inner: Ciphertext | undefined
        plaintexts[request.block]![giant]!.forEach((plaintext, baby) => {
          if (plaintext === undefined) return
          if (inner === undefined) {
            inner = track(new seal.Ciphertext())
            evaluator.multiplyPlain(babies[baby]!, plaintext, inner)
          } else {
            evaluator.multiplyPlain(babies[baby]!, plaintext, product)
            evaluator.addInplace(inner, product)
          }
        })
        if (accumulator !== undefined) evaluator.rotateVectorInplace(accumulator, layout.babyStep, galois)
        if (inner !== undefined) {
          if (accumulator === undefined) accumulator = inner
          else evaluator.addInplace(accumulator, inner)
        }
      }
      if (accumulator === undefined) {
        throw new ContinuumError('CONTINUUM_FHE_OPERATION_FAILED', 'This slice of the matrix is all zeros')
      }
      for (let giant = 0; giant < request.giantStart; giant++)
        evaluator.rotateVectorInplace(accumulator, layout.babyStep, galois)
      // Rotations ran before the rescale on purpose: key-switching noise is then negligible next to
      // the squared scale, where after it it would cost about two decimal digits at N=4096.
      evaluator.rescaleToNextInplace(accumulator)
      if (request.finalize) this.#finalize(accumulator, request.matrixId, encoded, request.block)
      return accumulator.saveToArray(this.#compression[request.compression]) as Uint8Array
    } catch (error) {
      throw sealFailure(error, 'CONTINUUM_FHE_OPERATION_FAILED', 'Evaluating the encrypted product')
    } finally {
      for (const ciphertext of owned) ciphertext.delete()
    }
  }

  /** Sums partial results of one block, adds the bias and serializes. */
  combine(request: CombineRequest): Uint8Array {
    const { seal, evaluator, context } = this.#context
    const encoded = this.#encoded(request.matrixId, request.mode)
    const owned: Ciphertext[] = []
    try {
      let sum: Ciphertext | undefined
      for (const bytes of request.partials) {
        const partial = new seal.Ciphertext()
        owned.push(partial)
        partial.loadFromArray(context, bytes)
        if (sum === undefined) sum = partial
        else evaluator.addInplace(sum, partial)
      }
      if (sum === undefined) throw new ContinuumError('CONTINUUM_FHE_OPERATION_FAILED', 'Nothing to combine')
      this.#finalize(sum, request.matrixId, encoded, request.block)
      return sum.saveToArray(this.#compression[request.compression]) as Uint8Array
    } catch (error) {
      throw sealFailure(error, 'CONTINUUM_FHE_OPERATION_FAILED', 'Combining partial results')
    } finally {
      for (const ciphertext of owned) ciphertext.delete()
    }
  }

  /** Evaluates a whole product on this thread: one serialized result per block. */
  evaluate(request: Omit<UnitRequest, 'block' | 'giantStart' | 'giantEnd' | 'finalize'>): Uint8Array[] {
    const layout = this.layoutOf(request.matrixId, request.mode)
    return Array.from({ length: layout.blocks }, (_, block) =>
      this.runUnit({ ...request, block, giantStart: 0, giantEnd: layout.giantSteps, finalize: true }),
    )
  }

  /** Adds the bias (linear layers) and drops to the last level so the result is as small as it gets. */
  #finalize(result: Ciphertext, matrixId: string, encoded: EncodedLayout, block: number): void {
    const { evaluator, context } = this.#context
    const lastParms = context.lastParmsId()
    try {
      evaluator.cipherModSwitchToInplace(result, lastParms)
      const bias = this.#matrices.get(matrixId)?.bias
      if (bias === undefined) return
      evaluator.addPlainInplace(result, this.#biasPlaintext(encoded, bias, block, result.scale(), lastParms))
    } finally {
      lastParms.delete()
    }
  }

  /**
   * The bias of a block encoded at `scale` and switched to the last level. Encoding it was most of
   * the cost of a small product, and every result of a block has the same scale (queries are
   * fresh at the encoding scale, products rescale once), so the plaintext is kept with the matrix
   * and only encoded again, replacing it, for a result of another scale. Encoding is
   * deterministic: the kept plaintext is the one a fresh encoding would give.
   */
  #biasPlaintext(
    encoded: EncodedLayout,
    bias: Float64Array,
    block: number,
    scale: number,
    lastParms: ParmsIdType,
  ): Plaintext {
    const cached = encoded.biasPlaintexts[block]
    if (cached?.scale === scale) return cached.plaintext
    const { seal, evaluator, encoder } = this.#context
    const plaintext = new seal.Plaintext()
    try {
      encoder.encode(biasValues(encoded.layout, bias, block), scale, plaintext)
      evaluator.plainModSwitchToInplace(plaintext, lastParms)
    } catch (error) {
      plaintext.delete()
      throw error
    }
    cached?.plaintext.delete()
    encoded.biasPlaintexts[block] = { scale, plaintext }
    return plaintext
  }

  /** Loads a query ciphertext and checks it is fresh for this parameter set at the encoding scale. */
  #loadQuery(bytes: Uint8Array): Ciphertext {
    const { seal, context } = this.#context
    const checked = boundedSealObject(bytes, { kind: 'ciphertext' }, this.parameters)
    const ciphertext = new seal.Ciphertext()
    try {
      ciphertext.loadFromArray(context, checked)
    } catch (error) {
      ciphertext.delete()
      throw sealFailure(error, 'CONTINUUM_FHE_MALFORMED_PAYLOAD', 'Loading the query ciphertext')
    }
    const parms = ciphertext.parmsId()
    const atFirstLevel = parmsKey(parms) === this.#firstParms
    parms.delete()
    if (!atFirstLevel || ciphertext.size() !== 2 || ciphertext.scale() !== this.parameters.scale) {
      ciphertext.delete()
      throw new ContinuumError(
        'CONTINUUM_FHE_PARAMETER_MISMATCH',
        'The query ciphertext is not a fresh ciphertext at the first level and encoding scale of this parameter set',
      )
    }
    return ciphertext
  }

  /** Releases every SEAL object. */
  dispose(): void {
    for (const keyTag of [...this.#keys.keys()]) this.dropEvaluationKeys(keyTag)
    for (const matrixId of [...this.#matrices.keys()]) this.dropMatrix(matrixId)
    this.#context.dispose()
  }
}

/** Runs `action` on a SEAL object and deletes it afterwards. */
function using<T extends { delete(): void }>(object: T, action: (object: T) => void): void {
  try {
    action(object)
  } finally {
    object.delete()
  }
}

/** A comparable key of a parms id; deletes nothing (the caller owns `parms`). */
function parmsKey(parms: ParmsIdType): string {
  return Array.from(parms.values() as BigUint64Array, (value) => value.toString(16)).join('.')
}
