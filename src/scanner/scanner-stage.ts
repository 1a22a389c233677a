/**
 * The prompt scanner as a proxy stage. It scores the decrypted request before anything is
 * forwarded: `block` rejects it with 403 CONTINUUM_PROMPT_INJECTION_BLOCKED (the upstream receives
 * nothing), `warn` forwards it and marks the response (`x-continuum-scan: warn` plus the scanner's
 * risk header), `log` forwards it unmarked. Every decision is left on the exchange's annotations
 * (risk, score, indicator names; never text) for the audit record and the metrics.
 *
 * What is scanned is what the model reads: the route's `modelText` (each adapter declares its
 * protocol's model-visible members, tool results and tool definitions included), or, on a route
 * that declares none, every string of the body. Every role is scanned unless `roles` says
 * otherwise: system and developer prompts, earlier assistant turns and tool output can all be
 * written by an attacker (a forged history, a poisoned tool server, a retrieved page).
 */
import { ContinuumError } from '../errors'
import { hasBrand } from '../internal/brand'
import type { ModelTextRole, ModelTextSegment } from '../protocol/model-text'
import { SCANNER_ANNOTATION, type ScannerAnnotation } from '../proxy/annotations'
import type { Exchange, ExchangeResponse } from '../proxy/exchange'
import type { Next, ProxyStage } from '../proxy/stage'
import { extractSegments } from './extract-text'
import { PromptScanner, type PromptScannerOptions } from './prompt-scanner'

/** Response header set on requests the scanner flagged with the `warn` action. */
export const SCAN_HEADER = 'x-continuum-scan'

const ALL_ROLES: readonly ModelTextRole[] = ['system', 'user', 'assistant', 'tool', 'document']

/** Options of {@link ScannerStage}: the scanner's own options, and which roles the stage scans. */
export interface ScannerStageOptions extends PromptScannerOptions {
  /**
   * Roles of the request's text the stage scans (`route.modelText` gives each piece its role).
   * @default ['system', 'user', 'assistant', 'tool', 'document'] (everything the model reads)
   */
  roles?: readonly ModelTextRole[]
  /**
   * A scanner built elsewhere; the scanner options above are then not used.
   * @default a PromptScanner built from these options
   */
  scanner?: PromptScanner
}

/** Scans each request with a PromptScanner; threshold and action come from the scanner. */
export class ScannerStage implements ProxyStage {
  readonly name = 'scanner'
  readonly scanner: PromptScanner
  readonly #roles: ReadonlySet<ModelTextRole>

  /** Takes a ready scanner, or the options to build one (validated now). */
  constructor(options: PromptScanner | ScannerStageOptions = {}) {
    const resolved: ScannerStageOptions = hasBrand(options, 'PromptScanner')
      ? { scanner: options as PromptScanner }
      : (options as ScannerStageOptions)
    const roles = resolved.roles ?? ALL_ROLES
    if (!Array.isArray(roles) || roles.length === 0 || roles.some((role) => !ALL_ROLES.includes(role))) {
      throw new ContinuumError(
        'CONTINUUM_INVALID_OPTIONS',
        `ScannerStage: roles must be a non-empty list of ${ALL_ROLES.join(', ')}`,
      )
    }
    if (resolved.scanner !== undefined && !hasBrand(resolved.scanner, 'PromptScanner')) {
      throw new ContinuumError('CONTINUUM_INVALID_OPTIONS', 'ScannerStage: scanner must be a PromptScanner')
    }
    this.scanner = resolved.scanner ?? new PromptScanner(resolved)
    this.#roles = new Set(roles)
  }

  async wrapAccepted(exchange: Exchange, next: Next): Promise<ExchangeResponse> {
    const segments = (await modelTextOf(exchange)).filter((segment) => this.#roles.has(segment.role))
    const decision = this.scanner.evaluateSegments(segments)
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

/**
 * The model-visible text of the accepted request. An adapter whose reader fails on a hostile
 * shape (by throwing or by rejecting) does not get the request through unscanned: every string of
 * the body is read instead.
 */
async function modelTextOf(exchange: Exchange): Promise<ModelTextSegment[]> {
  const reader = exchange.route.route.modelText
  if (reader !== undefined) {
    try {
      return await reader(exchange.body)
    } catch {
      // fall through to the protocol-neutral walk
    }
  }
  return extractSegments(exchange.body)
}
