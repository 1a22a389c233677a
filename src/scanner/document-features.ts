/**
 * Features of a text cut into chunks (see segments.ts): each chunk's own vector, and the
 * document's vector, which is the sum of the chunks' counts (damped and L2-normalised like any
 * vector). Every n-gram is hashed once, in its chunk; the document is assembled by adding each
 * chunk's distinct features into a second table, so scoring the document and all its chunks costs
 * little more than scoring the document alone. N-grams across a chunk boundary are not features,
 * in training or at run time alike.
 */
import { damp, type FeatureConfig, FeatureHasher, type SparseVector } from './features'
import { SlotTable } from './slot-table'

/** The vectors of a chunked text, for training. */
export interface ChunkedVectors {
  readonly document: SparseVector
  /** One per chunk; empty when the text is one chunk (its vector is the document's). */
  readonly chunks: SparseVector[]
}

/** Builds document and chunk features. Reuses its buffers; not re-entrant (one JS thread). */
export class DocumentFeatures {
  readonly hasher: FeatureHasher
  /** Vector index → document slot, for the features of the current document. */
  private readonly slotOf: SlotTable
  private touched = new Int32Array(4096)
  private counts = new Int32Array(4096)
  private touchedCount = 0

  constructor(config: FeatureConfig) {
    this.hasher = new FeatureHasher(config)
    this.slotOf = new SlotTable(this.hasher.dimension)
  }

  /**
   * The document's dot product with `weights`; `chunkScores[i]` receives chunk i's. `chunks` are
   * normalised texts; `chunkScores` must hold at least `chunks.length` values.
   */
  score(chunks: readonly string[], weights: Float32Array, chunkScores: Float64Array): number {
    const hasher = this.hasher
    if (chunks.length === 1) {
      hasher.load(chunks[0]!)
      const only = hasher.loadedDot(weights)
      hasher.clear()
      chunkScores[0] = only
      return only
    }
    for (let chunk = 0; chunk < chunks.length; chunk++) {
      const loaded = hasher.load(chunks[chunk]!)
      chunkScores[chunk] = hasher.loadedDot(weights)
      this.merge(loaded)
      hasher.clear()
    }
    const sum = this.documentDot(weights)
    this.clear()
    return sum
  }

  /** The document's vector and each chunk's, as fresh copies. */
  vectorize(chunks: readonly string[]): ChunkedVectors {
    const hasher = this.hasher
    if (chunks.length === 1) return { document: hasher.vectorize(chunks[0]!), chunks: [] }
    const vectors: SparseVector[] = []
    for (const chunk of chunks) {
      const loaded = hasher.load(chunk)
      vectors.push(hasher.loadedVector())
      this.merge(loaded)
      hasher.clear()
    }
    let squares = 0
    for (let slot = 0; slot < this.touchedCount; slot++) squares += damp(this.counts[slot]!) ** 2
    const norm = Math.sqrt(squares)
    const indices = this.touched.slice(0, this.touchedCount)
    const values = new Float32Array(this.touchedCount)
    for (let slot = 0; slot < this.touchedCount; slot++) {
      values[slot] = norm === 0 ? 0 : damp(this.counts[slot]!) / norm
    }
    this.clear()
    return { document: { indices, values }, chunks: vectors }
  }

  /** Adds the hasher's loaded chunk counts into the document table. */
  private merge(loaded: number): void {
    if (this.touched.length < this.touchedCount + loaded) {
      const size = Math.min(
        this.hasher.dimension,
        Math.max(this.touchedCount + loaded, this.touched.length * 2),
      )
      const touched = new Int32Array(size)
      const counts = new Int32Array(size)
      touched.set(this.touched.subarray(0, this.touchedCount))
      counts.set(this.counts.subarray(0, this.touchedCount))
      this.touched = touched
      this.counts = counts
    }
    // The table grows with the document: a long repetitive one keeps few features, in few lines.
    this.slotOf.reserve(this.touchedCount + loaded, this.touched)
    const indices = this.hasher.loadedIndices
    const chunkCounts = this.hasher.loadedCounts
    for (let slot = 0; slot < loaded; slot++) {
      const index = indices[slot]!
      let documentSlot = this.slotOf.find(index)
      if (documentSlot < 0) {
        const entry = -1 - documentSlot
        documentSlot = this.touchedCount++
        this.slotOf.insert(entry, index, documentSlot)
        this.touched[documentSlot] = index
        this.counts[documentSlot] = 0
      }
      this.counts[documentSlot] = this.counts[documentSlot]! + chunkCounts[slot]!
    }
  }

  private documentDot(weights: Float32Array): number {
    let squares = 0
    let sum = 0
    for (let slot = 0; slot < this.touchedCount; slot++) {
      const value = damp(this.counts[slot]!)
      squares += value * value
      sum += weights[this.touched[slot]!]! * value
    }
    return squares > 0 ? sum / Math.sqrt(squares) : 0
  }

  private clear(): void {
    this.slotOf.clear()
    // Back to the smallest table: the next document grows it only as far as it needs.
    this.slotOf.prepare(0)
    this.touchedCount = 0
  }
}
