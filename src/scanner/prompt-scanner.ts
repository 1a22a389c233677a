/**
 * PromptScanner: scores a prompt or a whole request for prompt injection and jailbreaks, and
 * turns the score into the action the pipeline takes. The score joins two kinds of evidence
 * with a noisy-OR: hand-written pattern families (precise, explainable indicators) and the
 * shipped classifier (recall on phrasings no pattern lists). Both see the normalised text and
 * every payload decoded out of base64, hex, percent-encoding or ROT13.
 */

import { ContinuumError } from '../errors'
import { brand } from '../internal/brand'
import { decodePayloads, rot13 } from './decode-payloads'
import { extractSegments, type ScanRole } from './extract-text'
import { InjectionModel, type InjectionModelJSON } from './model'
import { hasInvisibleCharacters, isAscii, normalizeText } from './normalize'
import { PATTERN_FAMILIES, type PatternFamily } from './patterns'
import { loadShippedModel } from './shipped-model'

/** Coarse risk level derived from the score. */
export type PromptRisk = 'none' | 'low' | 'medium' | 'high'

/** What the scanner found. Indicators are family names only, never prompt text. */
export interface ScanResult {
  readonly risk: PromptRisk
  /** 0..1; higher means more likely an injection. */
  readonly score: number
  /** Sorted, e.g. `['classifier', 'encoded:base64', 'ignore_instructions']`. */
  readonly indicators: string[]
}

/** What the pipeline does with a request at or above the threshold. */
export type ScanAction = 'block' | 'warn' | 'log'

/** The decision for one request. */
export interface ScanDecision {
  readonly verdict: ScanResult
  /** `allow` below the threshold; otherwise the configured action. */
  readonly action: 'allow' | ScanAction
  /** Response headers to add when the action is `warn` (empty otherwise). */
  readonly headers: Readonly<Record<string, string>>
  /** Content-free fields for the audit record. */
  readonly audit: {
    readonly promptRisk: PromptRisk
    readonly promptScore: number
    readonly promptIndicators: string
  }
}

/** Options of {@link PromptScanner}. */
export interface PromptScannerOptions {
  /**
   * Roles whose text is scanned: `user` for direct injection, `tool` and `document` for indirect
   * injection through tool results and retrieved documents.
   * @default ['user', 'tool', 'document']
   */
  roles?: readonly ScanRole[]
  /**
   * Score (0..1) at or above which the action applies.
   * @default 0.4 (the `medium` risk boundary)
   */
  threshold?: number
  /**
   * What to do at or above the threshold: `block` (403, nothing forwarded), `warn` (forward, add a
   * response header and audit fields) or `log` (forward, audit fields only).
   * @default 'block'
   */
  action?: ScanAction
  /**
   * Lower bounds of the `low`, `medium` and `high` risk levels.
   * @default { low: 0.2, medium: 0.4, high: 0.7 }
   */
  riskLevels?: { low: number; medium: number; high: number }
  /**
   * The classifier: a loaded model, its JSON, or `false` to use the patterns alone.
   * @default the model shipped in the package
   */
  model?: InjectionModel | InjectionModelJSON | false
  /**
   * Decode base64, hex, percent-encoded and ROT13 payloads and scan them too.
   * @default true
   */
  decodePayloads?: boolean
  /**
   * Name of the response header set by the `warn` action.
   * @default 'x-continuum-prompt-risk'
   */
  warnHeader?: string
}

const ALL_ROLES: readonly ScanRole[] = ['system', 'user', 'assistant', 'tool', 'document']
/** Score a classifier probability must reach before it is named as an indicator. */
const CLASSIFIER_INDICATOR = 0.5
/** Weight of invisible characters alone: suspicious, never enough to block by themselves. */
const INVISIBLE_WEIGHT = 0.15

function invalid(message: string): ContinuumError {
  return new ContinuumError('CONTINUUM_INVALID_OPTIONS', `PromptScanner: ${message}`)
}

const isUnit = (value: unknown): value is number => typeof value === 'number' && value >= 0 && value <= 1

/** Scores prompts and requests for injection. Build once; `scan` and `evaluate` are synchronous. */
export class PromptScanner {
  private readonly roles: ReadonlySet<ScanRole>
  private readonly threshold: number
  private readonly action: ScanAction
  private readonly levels: { low: number; medium: number; high: number }
  private readonly model: InjectionModel | undefined
  private readonly decode: boolean
  private readonly warnHeader: string
  private readonly families: readonly PatternFamily[] = PATTERN_FAMILIES

  constructor(options: PromptScannerOptions = {}) {
    const roles = options.roles ?? ['user', 'tool', 'document']
    if (!Array.isArray(roles) || roles.some((role) => !ALL_ROLES.includes(role))) {
      throw invalid(`roles must be a list of ${ALL_ROLES.join(', ')}`)
    }
    this.roles = new Set(roles)
    this.threshold = options.threshold ?? 0.4
    if (!isUnit(this.threshold)) throw invalid('threshold must be a number from 0 to 1')
    this.action = options.action ?? 'block'
    if (!['block', 'warn', 'log'].includes(this.action))
      throw invalid("action must be 'block', 'warn' or 'log'")
    this.levels = options.riskLevels ?? { low: 0.2, medium: 0.4, high: 0.7 }
    const { low, medium, high } = this.levels
    if (!isUnit(low) || !isUnit(medium) || !isUnit(high) || !(low <= medium && medium <= high)) {
      throw invalid('riskLevels must be numbers from 0 to 1 with low <= medium <= high')
    }
    if (options.model === false) this.model = undefined
    else if (options.model === undefined) this.model = loadShippedModel()
    else if (options.model instanceof InjectionModel) this.model = options.model
    else this.model = InjectionModel.fromJSON(options.model)
    this.decode = options.decodePayloads ?? true
    this.warnHeader = (options.warnHeader ?? 'x-continuum-prompt-risk').toLowerCase()
    if (!/^[a-z0-9-]{1,64}$/.test(this.warnHeader)) throw invalid('warnHeader must be a header name')
  }

  /**
   * Scores a prompt string, or every configured role of a request (canonical, OpenAI or
   * Anthropic shape). The result is the riskiest segment's score and the union of indicators.
   */
  scan(input: unknown): ScanResult {
    const indicators = new Set<string>()
    let score = 0
    const segments =
      typeof input === 'string' ? [{ role: 'user' as const, text: input }] : extractSegments(input)
    for (const segment of segments) {
      if (typeof input !== 'string' && !this.roles.has(segment.role)) continue
      score = Math.max(score, this.scoreText(segment.text, indicators))
    }
    return { risk: this.riskOf(score), score, indicators: [...indicators].sort() }
  }

  /** The decision the pipeline applies to a request: allow, or the configured action. */
  evaluate(request: unknown): ScanDecision {
    const verdict = this.scan(request)
    const action = verdict.score >= this.threshold ? this.action : 'allow'
    return {
      verdict,
      action,
      headers: action === 'warn' ? { [this.warnHeader]: verdict.risk } : {},
      audit: {
        promptRisk: verdict.risk,
        promptScore: Math.round(verdict.score * 1000) / 1000,
        promptIndicators: verdict.indicators.join(','),
      },
    }
  }

  /** The 403 error for a blocked request; names the risk and indicators, never the prompt. */
  toError(verdict: ScanResult): ContinuumError {
    return new ContinuumError(
      'CONTINUUM_PROMPT_INJECTION_BLOCKED',
      `Request blocked: prompt-injection risk ${verdict.risk}`,
      {
        details: { risk: verdict.risk, indicators: verdict.indicators },
      },
    )
  }

  private riskOf(score: number): PromptRisk {
    if (score >= this.levels.high) return 'high'
    if (score >= this.levels.medium) return 'medium'
    if (score >= this.levels.low) return 'low'
    return 'none'
  }

  /** Noisy-OR of classifier and pattern evidence over the text and its decoded payloads. */
  private scoreText(text: string, indicators: Set<string>): number {
    const ascii = isAscii(text)
    const normalized = normalizeText(text)
    let benign = 1 - this.scoreView(normalized, indicators, undefined, true)
    if (!ascii && hasInvisibleCharacters(text)) {
      indicators.add('invisible_characters')
      benign *= 1 - INVISIBLE_WEIGHT
    }
    if (this.decode) {
      for (const payload of decodePayloads(text)) {
        benign *=
          1 - this.scoreView(normalizeText(payload.text), indicators, `encoded:${payload.encoding}`, true)
      }
      // The ROT13 view of ordinary text is gibberish to the classifier, so only patterns run on it.
      // For ASCII text, rotating commutes with normalising (only letters move, and case and
      // spaces are all normalising does), so the normalised text is rotated instead of the
      // rotated text normalised.
      const rotated = ascii ? rot13(normalized) : normalizeText(rot13(text))
      benign *= 1 - this.scoreView(rotated, indicators, 'encoded:rot13', false)
    }
    return 1 - benign
  }

  private scoreView(
    normalized: string,
    indicators: Set<string>,
    via: string | undefined,
    classify: boolean,
  ): number {
    let benign = 1
    for (const family of this.families) {
      if (!family.pattern.test(normalized)) continue
      indicators.add(family.name)
      if (via !== undefined) indicators.add(via)
      benign *= 1 - family.weight
    }
    if (classify && this.model !== undefined) {
      const probability = this.model.probability(normalized)
      if (probability >= CLASSIFIER_INDICATOR) {
        indicators.add('classifier')
        if (via !== undefined) indicators.add(via)
      }
      benign *= 1 - probability
    }
    return 1 - benign
  }

  /**
   * The decision for segments a route declared (`route.modelText`): every segment is scored,
   * whatever its role (the caller chose which roles to pass), with the same scoring as `scan`.
   */
  evaluateSegments(segments: readonly { readonly text: string }[]): ScanDecision {
    const indicators = new Set<string>()
    let score = 0
    for (const segment of segments) score = Math.max(score, this.scoreText(segment.text, indicators))
    const verdict: ScanResult = { risk: this.riskOf(score), score, indicators: [...indicators].sort() }
    const action = score >= this.threshold ? this.action : 'allow'
    return {
      verdict,
      action,
      headers: action === 'warn' ? { [this.warnHeader]: verdict.risk } : {},
      audit: {
        promptRisk: verdict.risk,
        promptScore: Math.round(score * 1000) / 1000,
        promptIndicators: verdict.indicators.join(','),
      },
    }
  }
}

brand(PromptScanner.prototype, 'PromptScanner')
