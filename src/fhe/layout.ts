/**
 * Slot layouts for encrypted-vector × plaintext-matrix products (the Halevi-Shoup diagonal method
 * with baby-step giant-step). The query of d dimensions is padded to d' = 2^k and repeated so it
 * has period d' across the slots; score slot t then equals Σ_i diag_i[t] · rot(x, i)[t] with
 * diag_i[t] = M[row(t)][(t + i) mod d'], one plaintext multiply per diagonal and, with i = g·b + j,
 * only b − 1 baby rotations (by 1) and G − 1 giant rotations (by b). So a client uploads just two
 * Galois keys (steps 1 and b) whatever the collection size, and every ciphertext computes a full
 * slot count of scores.
 *
 * `single` mode: one query; slot t of block k scores row k·S + t. `batched` mode: several queries,
 * each repeated across its own segment of L slots (L a multiple of d', L ≥ rows + d' − 1 so no
 * rotation reaches the next query); slot j·L + u scores row u for query j.
 */
import { ContinuumError } from '../errors'

/** How queries are packed into slots. */
export type LayoutMode = 'single' | 'batched'

/** A computed layout; pure numbers, shared by client, server and workers. */
export interface MatrixLayout {
  readonly mode: LayoutMode
  readonly slotCount: number
  /** Stored rows (collection size, or linear-layer outputs). */
  readonly rows: number
  /** Vector dimension as registered. */
  readonly dimension: number
  /** Dimension padded to a power of two. */
  readonly paddedDimension: number
  /** Baby-step count b (also the giant rotation step). */
  readonly babyStep: number
  /** Giant-step count G = d' / b. */
  readonly giantSteps: number
  /** Result ciphertexts per query ciphertext. */
  readonly blocks: number
  /** Slots given to one query: S in single mode, L in batched mode. */
  readonly segmentLength: number
  /** Queries one ciphertext carries: 1 in single mode. */
  readonly queryCapacity: number
}

const nextPowerOfTwo = (value: number): number => 2 ** Math.ceil(Math.log2(Math.max(1, value)))

/** Baby-step size b = 2^ceil(log2(d')/2) for a padded dimension d'. */
export function babyStepFor(paddedDimension: number): number {
  return 2 ** Math.ceil(Math.log2(paddedDimension) / 2)
}

/** The Galois (rotation) steps a client must upload keys for, for a vector dimension. */
export function requiredGaloisSteps(dimension: number): number[] {
  const padded = nextPowerOfTwo(dimension)
  const baby = babyStepFor(padded)
  const steps: number[] = []
  if (baby > 1) steps.push(1)
  if (padded / baby > 1) steps.push(baby)
  return steps
}

/** Plans the layout of a rows × dimension matrix; throws when it cannot fit. */
export function planLayout(
  rows: number,
  dimension: number,
  slotCount: number,
  mode: LayoutMode,
): MatrixLayout {
  if (!Number.isInteger(rows) || rows < 1 || !Number.isInteger(dimension) || dimension < 1) {
    throw new ContinuumError('CONTINUUM_FHE_SIZE_MISMATCH', 'Matrix needs at least one row and one column')
  }
  const paddedDimension = nextPowerOfTwo(dimension)
  if (paddedDimension > slotCount) {
    throw new ContinuumError(
      'CONTINUUM_FHE_SIZE_MISMATCH',
      `Vector dimension ${dimension} exceeds the ${slotCount} slots of the parameter set; use a larger ring degree`,
      { details: { dimension, slotCount } },
    )
  }
  const babyStep = babyStepFor(paddedDimension)
  const shared = {
    slotCount,
    rows,
    dimension,
    paddedDimension,
    babyStep,
    giantSteps: paddedDimension / babyStep,
  }
  if (mode === 'single') {
    return {
      mode,
      ...shared,
      blocks: Math.ceil(rows / slotCount),
      segmentLength: slotCount,
      queryCapacity: 1,
    }
  }
  const segmentLength = Math.ceil((rows + paddedDimension - 1) / paddedDimension) * paddedDimension
  const queryCapacity = Math.floor(slotCount / segmentLength)
  if (queryCapacity < 1) {
    throw new ContinuumError(
      'CONTINUUM_FHE_BATCH_TOO_LARGE',
      `A collection of ${rows} rows of dimension ${dimension} leaves no room for batching in ${slotCount} slots`,
      { details: { rows, dimension, slotCount } },
    )
  }
  return { mode, ...shared, blocks: 1, segmentLength, queryCapacity }
}

/** The matrix row that slot `slot` of block `block` scores, or -1 for an unused slot. */
export function rowOfSlot(layout: MatrixLayout, block: number, slot: number): number {
  if (layout.mode === 'single') {
    const row = block * layout.slotCount + slot
    return row < layout.rows ? row : -1
  }
  const segment = Math.floor(slot / layout.segmentLength)
  const offset = slot - segment * layout.segmentLength
  return segment < layout.queryCapacity && offset < layout.rows ? offset : -1
}

/**
 * The values of the pre-rotated diagonal plaintext for giant step g, baby step j of a block:
 * P[t] = diag_{g·b+j}[(t − g·b) mod S]. `matrix` is row-major, rows × dimension. Returns
 * `undefined` when every value is zero (SEAL refuses products that would be transparent).
 */
export function diagonalValues(
  layout: MatrixLayout,
  matrix: Float64Array,
  block: number,
  giant: number,
  baby: number,
): Float64Array | undefined {
  const { slotCount, dimension, paddedDimension, babyStep } = layout
  const shift = giant * babyStep
  const index = shift + baby
  const values = new Float64Array(slotCount)
  let nonZero = false
  for (let slot = 0; slot < slotCount; slot++) {
    const source = (slot - shift + slotCount) % slotCount
    const row = rowOfSlot(layout, block, source)
    if (row < 0) continue
    const column = (source + index) % paddedDimension
    if (column >= dimension) continue
    const value = matrix[row * dimension + column]!
    if (value !== 0) nonZero = true
    values[slot] = value
  }
  return nonZero ? values : undefined
}

/** Per-slot bias values of a block (linear layers), row r's bias in every slot scoring row r. */
export function biasValues(layout: MatrixLayout, bias: Float64Array, block: number): Float64Array {
  const values = new Float64Array(layout.slotCount)
  for (let slot = 0; slot < layout.slotCount; slot++) {
    const row = rowOfSlot(layout, block, slot)
    if (row >= 0) values[slot] = bias[row]!
  }
  return values
}

/** Packs one query (single mode) or up to `queryCapacity` queries (batched mode) into slot values. */
export function packQueries(layout: MatrixLayout, queries: ReadonlyArray<ArrayLike<number>>): Float64Array {
  if (queries.length < 1 || queries.length > layout.queryCapacity) {
    throw new ContinuumError(
      'CONTINUUM_FHE_BATCH_TOO_LARGE',
      `This layout carries 1 to ${layout.queryCapacity} queries per ciphertext, got ${queries.length}`,
      { details: { queryCapacity: layout.queryCapacity } },
    )
  }
  const values = new Float64Array(layout.slotCount)
  queries.forEach((query, segment) => {
    if (query.length !== layout.dimension) {
      throw new ContinuumError(
        'CONTINUUM_FHE_SIZE_MISMATCH',
        `Query has ${query.length} dimensions, the matrix has ${layout.dimension}`,
        { details: { expected: layout.dimension, actual: query.length } },
      )
    }
    const start = segment * layout.segmentLength
    for (let offset = 0; offset < layout.segmentLength; offset++) {
      const column = offset % layout.paddedDimension
      values[start + offset] = column < layout.dimension ? Number(query[column]) : 0
    }
  })
  return values
}

/** Reads each query's row scores back out of the decoded result blocks. */
export function unpackScores(
  layout: MatrixLayout,
  blocks: readonly Float64Array[],
  queryCount: number,
): Float64Array[] {
  return Array.from({ length: queryCount }, (_, query) => {
    const scores = new Float64Array(layout.rows)
    for (let row = 0; row < layout.rows; row++) {
      if (layout.mode === 'single') {
        scores[row] = blocks[Math.floor(row / layout.slotCount)]![row % layout.slotCount]!
      } else {
        scores[row] = blocks[0]![query * layout.segmentLength + row]!
      }
    }
    return scores
  })
}
