/** Prompt-injection scanning: the scanner, canary tokens, the normaliser and the model types. */
export { canaryInstruction, createCanary, detectLeak, withCanary } from './canary'
export { Combiner, type CombinerJSON } from './combiner'
export { type DecodedPayload, decodePayloads, type PayloadEncoding } from './decode-payloads'
export { extractSegments, type ScanRole, type TextSegment } from './extract-text'
export { InjectionModel, type InjectionModelJSON, type InjectionModelParts } from './model'
export { normalizeText } from './normalize'
export { PATTERN_FAMILIES, type PatternFamily } from './patterns'
export {
  type PromptRisk,
  PromptScanner,
  type PromptScannerOptions,
  type ScanAction,
  type ScanDecision,
  type ScanLocation,
  type ScanResult,
} from './prompt-scanner'
export { SCAN_HEADER, ScannerStage, type ScannerStageOptions } from './scanner-stage'
export { loadShippedModel } from './shipped-model'
