/**
 * The training corpus in the form every fold reuses: for each labelled row, the model-independent
 * evidence (patterns, signals; see src/scanner/evidence.ts) and the sparse vectors the classifier
 * sees (the document, its chunks, its decoded payloads). Building this once and training every
 * fold on subsets of it is what keeps the nested cross-validation affordable.
 */
import { DocumentFeatures } from '../src/scanner/document-features'
import { EVIDENCE_LAYOUT, staticEvidence, viewsOf } from '../src/scanner/evidence'
import type { FeatureConfig, SparseVector } from '../src/scanner/features'
import type { LabelledPrompt } from './scanner-data'

/** How texts become vectors: fixed for a corpus (changing it means building another corpus). */
export interface CorpusSettings {
  readonly features: FeatureConfig
  /** Largest chunk, in UTF-16 code units (see src/scanner/segments.ts). */
  readonly maxChunk: number
  /**
   * At most this many chunks of one row take part in training (evenly spaced, first and last
   * included), so one 144 KB prompt does not outweigh a thousand short ones. Scoring always
   * reads every chunk.
   */
  readonly trainingChunks: number
}

/** One row, ready for any fold. */
export interface CorpusRow {
  readonly label: 0 | 1
  /** The document's vector: all its chunks' features together. */
  readonly document: SparseVector
  /** Chunk and payload vectors that train and score as the row's parts (may be empty). */
  readonly parts: SparseVector[]
  /** Every chunk and payload vector, for scoring (the training parts are a subset). */
  readonly allParts: SparseVector[]
  /** Evidence slots that do not depend on the classifier (its two slots are left 0). */
  readonly evidence: Float64Array
}

/** Evenly spaced indices `0 .. count-1`, at most `limit` of them, first and last included. */
export function spacedIndices(count: number, limit: number): number[] {
  if (count <= limit) return Array.from({ length: count }, (_, index) => index)
  if (limit <= 1) return [0]
  return Array.from({ length: limit }, (_, index) => Math.round((index * (count - 1)) / (limit - 1)))
}

/** Builds the corpus; patterns and payload decoding run exactly as in the default scanner. */
export function buildCorpus(rows: readonly LabelledPrompt[], settings: CorpusSettings): CorpusRow[] {
  const documents = new DocumentFeatures(settings.features)
  return rows.map((row) => {
    const views = viewsOf(row.text, settings.maxChunk, true)
    const evidence = new Float64Array(EVIDENCE_LAYOUT.length)
    staticEvidence(row.text, views, evidence, new Set())
    const vectors = documents.vectorize(views.chunks.length === 0 ? [''] : views.chunks)
    const payloads = views.payloads.map((payload) => documents.hasher.vectorize(payload.normalized))
    const allParts = [...vectors.chunks, ...payloads]
    const parts = [
      ...spacedIndices(vectors.chunks.length, settings.trainingChunks).map((index) => vectors.chunks[index]!),
      ...payloads,
    ]
    return { label: row.label, document: vectors.document, parts, allParts, evidence }
  })
}
