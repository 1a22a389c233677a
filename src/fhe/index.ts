/**
 * `continuum-proxy/fhe`: CKKS homomorphic encryption over node-seal. Clients keep the secret key
 * (FheKeyManager); servers score encrypted embeddings against stored collections and apply linear
 * layers without seeing values (FheService, createFheHandler). Numeric work on vectors only: text
 * generation on ciphertexts is not offered.
 */
export type { EvaluateRequest, FheBackend } from './backend'
export { EnvelopeKind, evaluationKeyId, isValidKeyId } from './envelope'
export {
  type FheCaller,
  type FheKeyUpload,
  type FheProductResult,
  FheService,
  type FheServiceOptions,
  type StoredMatrixDescription,
} from './fhe-service'
export { createFheHandler, type FheHandlerOptions } from './http-handler'
export { type EvaluationKeyOptions, FheKeyManager, type FheKeyManagerOptions } from './key-manager'
export {
  type LayoutMode,
  type MatrixLayout,
  packQueries,
  planLayout,
  requiredGaloisSteps,
  unpackScores,
} from './layout'
export {
  CKKS_PRESETS,
  type CkksParameters,
  type CkksPresetName,
  type ResolvedCkksParameters,
  resolveCkksParameters,
  SECURITY_128_MAX_MODULUS_BITS,
} from './params'
export { type Compression, type EvaluationKeyBytes, type MatrixSpec, SealEvaluator } from './seal-evaluator'
export { WorkerPoolBackend, type WorkerPoolBackendOptions } from './worker-pool-backend'
