/** Data classification: PII and secret detection, classification levels and redaction. */
export {
  type Classification,
  type ClassificationResult,
  DataClassifier,
  type DataClassifierOptions,
  DEFAULT_LEVELS,
  type Finding,
} from './data-classifier'
export type { FindingType } from './detectors'
