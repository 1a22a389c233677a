/**
 * The compute contract behind the FHE service. The service (keys, envelopes, HTTP) talks only to
 * this interface, so a native SEAL build or a GPU CKKS library under `native/` can replace the
 * WASM worker pool without changing callers. The `specificationVersion` literal lets the service
 * refuse a backend written against another revision of the contract.
 */
import type { LayoutMode } from './layout'
import type { ResolvedCkksParameters } from './params'
import type { Compression, EvaluationKeyBytes, MatrixSpec } from './seal-evaluator'

/** One encrypted-vector × stored-matrix product. */
export interface EvaluateRequest {
  /** Names the evaluation keys; the service makes tags unique per upload. */
  readonly keyTag: string
  /** The keys themselves, for backends that load them lazily (held by the service's LRU cache). */
  readonly keys: EvaluationKeyBytes
  readonly matrixId: string
  readonly mode: LayoutMode
  /** SEAL bytes of the query ciphertext. */
  readonly input: Uint8Array
  /** Compression of the result ciphertexts. */
  readonly compression: Compression
}

/** A CKKS compute backend, revision v1. */
export interface FheBackend {
  readonly specificationVersion: 'v1'
  /** The parameter set every operation runs under. */
  readonly parameters: ResolvedCkksParameters
  /** Parses and checks evaluation keys (garbage is `CONTINUUM_FHE_MALFORMED_PAYLOAD`); may keep them loaded. */
  loadEvaluationKeys(keyTag: string, keys: EvaluationKeyBytes): Promise<void>
  /** Forgets loaded keys (called when the service's cache evicts them). */
  dropEvaluationKeys(keyTag: string): Promise<void>
  /** Pre-encodes a stored matrix (collection or linear layer) for the given layout modes. */
  setMatrix(matrixId: string, spec: MatrixSpec): Promise<void>
  /** Releases a stored matrix. */
  dropMatrix(matrixId: string): Promise<void>
  /** Evaluates a product; resolves one serialized result ciphertext per result block. */
  evaluate(request: EvaluateRequest): Promise<Uint8Array[]>
  /** Stops threads and releases native memory. */
  close(): Promise<void>
}
