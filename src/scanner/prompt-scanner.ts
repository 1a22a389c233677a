/**
 * PromptScanner: scores a prompt or a whole request for prompt injection and jailbreaks, and
 * turns the score into the action the pipeline takes. Evidence comes from hand-written pattern
 * families (precise, explainable indicators), dense signals (token salad, scenario framing) and
 * the shipped classifier (recall on phrasings no pattern lists), which scores the whole text and
 * each chunk of it. The model's combiner weighs them into one score (see evidence.ts and
 * combiner.ts); without a model, or with a format 1 model, a noisy-OR of fixed weights does.
 * Everything sees the normalised text and every payload decoded out of base64, hex,
 * percent-encoding or ROT13.
 */
import { ContinuumError } from '../errors'
import { brand } from '../internal/brand'
import { sigmoid } from './combiner'
import {
  EVIDENCE_LAYOUT,
  SLOT,
  setClassifierEvidence,
  staticEvidence,
  type TextViews,
  viewsOf,
} from './evidence'
import { extractSegments, type ScanRole, type TextSegment } from './extract-text'
import { joinedViews, segmentSpanOf } from './joined-siblings'
import { InjectionModel, type InjectionModelJSON } from './model'
import { PATTERN_FAMILIES } from './patterns'
import { loadShippedModel } from './shipped-model'

/** Coarse risk level derived from the score. */
export type PromptRisk = 'none' | 'low' | 'medium' | 'high'

/** Where the riskiest evidence sits: a span of one scanned string, never its text. */
export interface ScanLocation {
  /** JSON Pointer of the string in the request (`/messages/2/content`); `''` for a plain string. */
  readonly path: string
  /** The role of that string (`user`, `tool`, `document`, ...). */
  readonly role: ScanRole
  /** Start offset, in UTF-16 code units, of the chunk (or whole string) with the strongest evidence. */
  readonly start: number
  /** End offset (exclusive), in UTF-16 code units. */
  readonly end: number
}

/** What the scanner found. Indicators are family names only, never prompt text. */
export interface ScanResult {
  readonly risk: PromptRisk
  /** 0..1; higher means more likely an injection. */
  readonly score: number
  /** Sorted, e.g. `['classifier', 'encoded:base64', 'ignore_instructions']`. */
  readonly indicators: string[]
  /** Where the riskiest segment's strongest evidence sits; present when the risk is not `none`. */
  readonly location?: ScanLocation
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
/** Logit a signal (or the classifier) must add to the combined score before it is named as an indicator. */
const SIGNAL_INDICATOR = 1
/** Chunk size for format 1 models and patterns alone: only the location uses chunks then. */
const LEGACY_CHUNK = 256

/** The score of one text and where in it the strongest evidence sits. */
interface TextScore {
  readonly score: number
  readonly start: number
  readonly end: number
}

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
    const segments: TextSegment[] =
      typeof input === 'string' ? [{ role: 'user', text: input, path: '' }] : extractSegments(input)
    return this.scoreSegments(
      typeof input === 'string' ? segments : segments.filter((segment) => this.roles.has(segment.role)),
    )
  }

  /**
   * The riskiest segment's score, the union of indicators, and where the riskiest evidence sits.
   * Sibling segments (the parts of one message) are also scored joined, as the model reads them
   * (joined-siblings.ts); a joined view that scores higher is located in the segment its span starts in.
   */
  private scoreSegments(segments: readonly TextSegment[]): ScanResult {
    const indicators = new Set<string>()
    let best: TextScore | undefined
    let bestLocation: ((scored: TextScore) => ScanLocation) | undefined
    const consider = (text: string, locate: (scored: TextScore) => ScanLocation): void => {
      const scored = this.scoreText(text, indicators)
      if (best === undefined || scored.score > best.score) {
        best = scored
        bestLocation = locate
      }
    }
    for (const segment of segments) {
      consider(segment.text, ({ start, end }) => ({ path: segment.path, role: segment.role, start, end }))
    }
    for (const view of joinedViews(segments)) {
      consider(view.text, ({ start, end }) => segmentSpanOf(view, start, end))
    }
    const score = best?.score ?? 0
    const risk = this.riskOf(score)
    const result: ScanResult = { risk, score, indicators: [...indicators].sort() }
    if (risk === 'none' || best === undefined || bestLocation === undefined) return result
    return { ...result, location: bestLocation(best) }
  }

  /** The decision the pipeline applies to a request: allow, or the configured action. */
  evaluate(request: unknown): ScanDecision {
    return this.decide(this.scan(request))
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

  /** The combined score of one text, its indicators, and the span of its strongest evidence. */
  private scoreText(text: string, indicators: Set<string>): TextScore {
    const parts = this.model?.parts
    const views = viewsOf(text, parts?.maxChunk ?? LEGACY_CHUNK, this.decode)
    const evidence = new Float64Array(EVIDENCE_LAYOUT.length)
    staticEvidence(text, views, evidence, indicators)
    if (this.model === undefined || parts === undefined)
      return this.legacyScore(text, views, evidence, indicators)

    const chunkLogits = new Float64Array(views.chunks.length)
    const document = this.model.chunkedLogit(views.chunks, chunkLogits)
    let best = document
    let bestChunk = -1
    for (let chunk = 0; chunk < chunkLogits.length; chunk++) {
      if (chunkLogits[chunk]! > best) {
        best = chunkLogits[chunk]!
        bestChunk = chunk
      }
    }
    for (const payload of views.payloads) best = Math.max(best, this.model.logit(payload.normalized))
    setClassifierEvidence(evidence, document, best)
    const { combiner } = parts
    let classifierShare = 0
    for (let slot = SLOT.document; slot < SLOT.firstPattern; slot++) {
      classifierShare += combiner.weights[slot]! * evidence[slot]!
    }
    // Named when the classifier is confident and its slots add materially to the score.
    if (sigmoid(best) >= CLASSIFIER_INDICATOR && classifierShare >= SIGNAL_INDICATOR)
      indicators.add('classifier')
    for (let slot = SLOT.firstSignal; slot < EVIDENCE_LAYOUT.length; slot++) {
      if (combiner.weights[slot]! * evidence[slot]! >= SIGNAL_INDICATOR) {
        indicators.add(EVIDENCE_LAYOUT[slot]!.slice('signal:'.length))
      }
    }
    const score = sigmoid(combiner.logit(evidence))
    return { score, ...this.spanOf(text, views, bestChunk, score) }
  }

  /**
   * Patterns alone, or a format 1 model: a noisy-OR of the fixed family weights, the whole-text
   * classifier probability (of the text and of each decoded payload) and invisible characters.
   */
  private legacyScore(
    text: string,
    views: TextViews,
    evidence: Float64Array,
    indicators: Set<string>,
  ): TextScore {
    let benign = 1
    PATTERN_FAMILIES.forEach((family, index) => {
      if (evidence[SLOT.firstPattern + index] === 1) benign *= 1 - family.weight
    })
    if (evidence[SLOT.invisible] === 1) benign *= 1 - INVISIBLE_WEIGHT
    if (this.model !== undefined) {
      for (const normalized of [views.normalized, ...views.payloads.map((payload) => payload.normalized)]) {
        const probability = this.model.probability(normalized)
        if (probability >= CLASSIFIER_INDICATOR) indicators.add('classifier')
        benign *= 1 - probability
      }
    }
    const score = 1 - benign
    return { score, ...this.spanOf(text, views, -1, score) }
  }

  /**
   * The span a flagged text's location names: the chunk where a pattern family matched, else the
   * chunk the classifier rated highest, else the whole text. Only computed when the score is at
   * least `low` (a location is reported only then), so ordinary traffic never pays for it.
   */
  private spanOf(
    text: string,
    views: TextViews,
    bestChunk: number,
    score: number,
  ): { start: number; end: number } {
    const { spans } = views
    const whole = { start: spans[0] ?? 0, end: spans[spans.length - 1] ?? text.length }
    if (score < this.levels.low || views.chunks.length <= 1) return whole
    let chosen = bestChunk
    for (const family of PATTERN_FAMILIES) {
      if (!family.pattern.test(views.normalized)) continue
      const chunk = views.chunks.findIndex((piece) => family.pattern.test(piece))
      if (chunk >= 0) {
        chosen = chunk
        break
      }
    }
    return chosen < 0 ? whole : { start: spans[2 * chosen]!, end: spans[2 * chosen + 1]! }
  }

  /**
   * The decision for segments a route declared (`route.modelText`): every segment is scored,
   * whatever its role (the caller chose which roles to pass), with the same scoring as `scan`.
   */
  evaluateSegments(segments: readonly TextSegment[]): ScanDecision {
    return this.decide(this.scoreSegments(segments))
  }

  private decide(verdict: ScanResult): ScanDecision {
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
}

brand(PromptScanner.prototype, 'PromptScanner')
