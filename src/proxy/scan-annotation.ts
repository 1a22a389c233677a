/**
 * What the scanner stage leaves on `exchange.annotations` for the stages and telemetry after it:
 * the decision's action and the content-free verdict (risk, score, indicator family names).
 */

import type { PromptRisk, ScanDecision } from '../scanner'
import type { Exchange } from './stage'

/** Key of the scanner's annotation in `exchange.annotations`. */
export const SCANNER_ANNOTATION = 'continuum.scanner'

/** The scanner's annotation. */
export interface ScannerAnnotation {
  readonly action: ScanDecision['action']
  readonly risk: PromptRisk
  readonly score: number
  /** Indicator family names, e.g. `['ignore_instructions']`; never prompt text. */
  readonly indicators: readonly string[]
}

/** Reads the scanner annotation of an exchange, when the scanner ran. */
export function scannerAnnotationOf(exchange: Exchange): ScannerAnnotation | undefined {
  const value = exchange.annotations[SCANNER_ANNOTATION]
  return typeof value === 'object' && value !== null ? (value as ScannerAnnotation) : undefined
}
