/**
 * The prompt scanner as a proxy stage. It scores the decrypted request before anything is
 * forwarded: `block` rejects it with 403 CONTINUUM_PROMPT_INJECTION_BLOCKED (the upstream receives
 * nothing), `warn` forwards it and marks the response (`x-continuum-scan: warn` plus the scanner's
 * risk header), `log` forwards it unmarked. Every decision is left on the exchange's annotations
 * (risk, score, indicator names; never text) for the audit record and the metrics.
 */
import { hasBrand } from '../internal/brand'
import { SCANNER_ANNOTATION, type ScannerAnnotation } from '../proxy/annotations'
import type { Exchange, ExchangeResponse } from '../proxy/exchange'
import type { Next, ProxyStage } from '../proxy/stage'
import { PromptScanner, type PromptScannerOptions } from './prompt-scanner'

/** Response header set on requests the scanner flagged with the `warn` action. */
export const SCAN_HEADER = 'x-continuum-scan'

/** Scans each request with a PromptScanner; roles, threshold and action come from the scanner's options. */
export class ScannerStage implements ProxyStage {
  readonly name = 'scanner'
  readonly scanner: PromptScanner

  /** Takes a ready scanner, or the options to build one (validated now). */
  constructor(scanner: PromptScanner | PromptScannerOptions = {}) {
    this.scanner = hasBrand(scanner, 'PromptScanner')
      ? (scanner as PromptScanner)
      : new PromptScanner(scanner as PromptScannerOptions)
  }

  async wrapAccepted(exchange: Exchange, next: Next): Promise<ExchangeResponse> {
    const decision = this.scanner.evaluate(exchange.body)
    const annotation: ScannerAnnotation = {
      action: decision.action,
      risk: decision.verdict.risk,
      score: decision.audit.promptScore,
      indicators: decision.verdict.indicators,
    }
    exchange.annotations[SCANNER_ANNOTATION] = annotation
    if (decision.action === 'block') throw this.scanner.toError(decision.verdict)
    if (decision.action === 'warn') {
      Object.assign(exchange.responseHeaders, decision.headers)
      exchange.responseHeaders[SCAN_HEADER] = 'warn'
    }
    return next()
  }
}
