/**
 * DataClassifier: finds PII and secrets in a prompt or request and maps it to a classification
 * level (`public < internal < confidential < restricted`), the input of the router's
 * `classification_based` policy. Findings carry a type, a JSON path and offsets, never the value,
 * so they can be logged and audited. `redact` returns a copy with every finding replaced by a
 * `[REDACTED:TYPE]` marker, for requests that must leave for a cloud provider.
 */
import { ContinuumError } from '../errors'
import { DETECTORS, type Detector, type FindingType } from './detectors'
import { keepNonOverlapping, type TypedSpan } from './non-overlapping'

/** Sensitivity levels, least to most sensitive. */
export type Classification = 'public' | 'internal' | 'confidential' | 'restricted'

const LEVEL_ORDER: readonly Classification[] = ['public', 'internal', 'confidential', 'restricted']

/** One piece of sensitive data: where it is and what kind, never what it says. */
export interface Finding {
  readonly type: FindingType
  readonly level: Classification
  /** Dotted path of the string in the request (`messages.1.content.0.text`); `''` for a plain string. */
  readonly path: string
  readonly start: number
  readonly end: number
}

/** The classification of one input. */
export interface ClassificationResult {
  readonly classification: Classification
  readonly findings: Finding[]
}

/** Default level of each finding type: secrets, card numbers and national ids are restricted. */
export const DEFAULT_LEVELS: Readonly<Record<FindingType, Classification>> = {
  PRIVATE_KEY: 'restricted',
  OPENAI_KEY: 'restricted',
  ANTHROPIC_KEY: 'restricted',
  AWS_ACCESS_KEY: 'restricted',
  GITHUB_TOKEN: 'restricted',
  SLACK_TOKEN: 'restricted',
  GOOGLE_API_KEY: 'restricted',
  HIGH_ENTROPY_SECRET: 'restricted',
  CREDIT_CARD: 'restricted',
  US_SSN: 'restricted',
  UK_NINO: 'restricted',
  IBAN: 'confidential',
  EMAIL: 'confidential',
  PHONE: 'confidential',
}

/** Options of {@link DataClassifier}. */
export interface DataClassifierOptions {
  /**
   * Finding types to detect.
   * @default every type
   */
  types?: readonly FindingType[]
  /**
   * Level per finding type, overriding the defaults (e.g. `{ EMAIL: 'internal' }`).
   * @default DEFAULT_LEVELS
   */
  levels?: Partial<Record<FindingType, Classification>>
  /**
   * Phrases (case-insensitive) that raise a request to at least a level, e.g. a document marking.
   * @default { internal: ['internal use only', 'internal only', 'do not distribute'], confidential: ['strictly confidential', 'company confidential'] }
   */
  markers?: Partial<Record<Exclude<Classification, 'public'>, readonly string[]>>
  /**
   * Object keys whose string values are never inspected (identifiers and enums, not content).
   * @default ['model', 'role', 'type', 'id', 'tool_call_id', 'toolCallId', 'object', 'mediaType', 'media_type']
   */
  skipKeys?: readonly string[]
}

function invalid(message: string): ContinuumError {
  return new ContinuumError('CONTINUUM_INVALID_OPTIONS', `DataClassifier: ${message}`)
}

/** Finds sensitive data and classifies requests. Build once and share. */
export class DataClassifier {
  private readonly detectors: readonly Detector[]
  private readonly levels: Readonly<Record<FindingType, Classification>>
  private readonly markers: ReadonlyArray<readonly [string, Classification]>
  private readonly skipKeys: ReadonlySet<string>

  constructor(options: DataClassifierOptions = {}) {
    const known = new Set(DETECTORS.map((detector) => detector.type))
    const types = options.types ?? [...known]
    for (const type of types)
      if (!known.has(type)) throw invalid(`unknown finding type in types: ${String(type)}`)
    this.detectors = DETECTORS.filter((detector) => types.includes(detector.type))
    for (const [type, level] of Object.entries(options.levels ?? {})) {
      if (!known.has(type as FindingType)) throw invalid(`unknown finding type in levels: ${type}`)
      if (!LEVEL_ORDER.includes(level as Classification))
        throw invalid(`levels.${type} must be one of ${LEVEL_ORDER.join(', ')}`)
    }
    this.levels = { ...DEFAULT_LEVELS, ...options.levels }
    const markers = options.markers ?? {
      internal: ['internal use only', 'internal only', 'do not distribute'],
      confidential: ['strictly confidential', 'company confidential'],
    }
    const pairs: Array<readonly [string, Classification]> = []
    for (const [level, phrases] of Object.entries(markers)) {
      if (!LEVEL_ORDER.includes(level as Classification) || level === 'public')
        throw invalid(`markers.${level} is not a level`)
      for (const phrase of phrases ?? []) {
        if (typeof phrase !== 'string' || phrase.trim() === '')
          throw invalid(`markers.${level} must hold non-empty strings`)
        pairs.push([phrase.toLowerCase(), level as Classification])
      }
    }
    this.markers = pairs
    this.skipKeys = new Set(
      options.skipKeys ?? [
        'model',
        'role',
        'type',
        'id',
        'tool_call_id',
        'toolCallId',
        'object',
        'mediaType',
        'media_type',
      ],
    )
  }

  /** Every finding in a string or request, and the resulting classification. */
  inspect(input: unknown): ClassificationResult {
    const findings: Finding[] = []
    let level = 0
    this.walk(input, (text, path) => {
      for (const span of this.findSpans(text)) {
        const found = this.levels[span.type]
        findings.push({ type: span.type, level: found, path, start: span.start, end: span.end })
        level = Math.max(level, LEVEL_ORDER.indexOf(found))
      }
      if (this.markers.length > 0) {
        const lower = text.toLowerCase()
        for (const [phrase, marked] of this.markers) {
          if (lower.includes(phrase)) level = Math.max(level, LEVEL_ORDER.indexOf(marked))
        }
      }
    })
    return { classification: LEVEL_ORDER[level]!, findings }
  }

  /**
   * The classification of a request. A bound function, so it can be handed to the router as its
   * pluggable classifier: `new InferenceRouter({ classifier: dataClassifier.classify, ... })`.
   */
  readonly classify = (input: unknown): Classification => this.inspect(input).classification

  /**
   * A copy of `input` (a string or a request) with every finding replaced by `[REDACTED:TYPE]`.
   * The input is not modified.
   */
  redact<T>(input: T): T {
    return this.rewrite(input) as T
  }

  /** Non-overlapping spans of `text`, earliest first; a more specific detector wins an overlap. */
  private findSpans(text: string): TypedSpan<FindingType>[] {
    return keepNonOverlapping(
      this.detectors.map((detector) => ({ type: detector.type, spans: detector.find(text) })),
    )
  }

  private redactText(text: string): string {
    const spans = this.findSpans(text)
    if (spans.length === 0) return text
    let result = ''
    let cursor = 0
    for (const span of spans) {
      result += `${text.slice(cursor, span.start)}[REDACTED:${span.type}]`
      cursor = span.end
    }
    return result + text.slice(cursor)
  }

  /**
   * Calls `visit` with every inspected string and its dotted path, in document order, at any depth
   * (an explicit stack, no recursion): a depth bound would pass whatever nests past it unread. An
   * object reached twice (shared, or a cycle) is read once.
   */
  private walk(input: unknown, visit: (text: string, path: string) => void): void {
    const seen = new Set<object>()
    const pending: Array<{ value: unknown; path: string }> = [{ value: input, path: '' }]
    while (pending.length > 0) {
      const { value, path } = pending.pop()!
      if (typeof value === 'string') visit(value, path)
      if (value === null || typeof value !== 'object' || seen.has(value)) continue
      seen.add(value)
      const children = this.children(value as Record<string, unknown>)
      for (let index = children.length - 1; index >= 0; index--) {
        const [key, child] = children[index]!
        pending.push({ value: child, path: join(path, key) })
      }
    }
  }

  /** A deep copy with every string redacted, at any depth; a shared object or a cycle is copied once. */
  private rewrite(input: unknown): unknown {
    const copies = new Map<object, Record<string, unknown> | unknown[]>()
    const pending: Array<{ source: Record<string, unknown>; target: Record<string, unknown> }> = []
    const copyOf = (value: unknown): unknown => {
      if (typeof value === 'string') return this.redactText(value)
      if (value === null || typeof value !== 'object') return value
      let copy = copies.get(value)
      if (copy === undefined) {
        copy = Array.isArray(value) ? new Array(value.length) : {}
        copies.set(value, copy)
        pending.push({ source: value as Record<string, unknown>, target: copy as Record<string, unknown> })
      }
      return copy
    }
    const root = copyOf(input)
    while (pending.length > 0) {
      const { source, target } = pending.pop()!
      const array = Array.isArray(source)
      for (const [key, child] of Object.entries(source)) {
        target[key] = !array && this.skips(source, key) ? child : copyOf(child)
      }
    }
    return root
  }

  /** The members of an object or the items of an array that are inspected, with their keys. */
  private children(value: Record<string, unknown>): Array<[string | number, unknown]> {
    if (Array.isArray(value)) return value.map((item, index) => [index, item])
    return Object.entries(value).filter(([key]) => !this.skips(value, key))
  }

  /** Identifier keys, and the base64 `data` of images, are not content. */
  private skips(record: Record<string, unknown>, key: string): boolean {
    if (this.skipKeys.has(key)) return true
    return (
      key === 'data' && typeof record.type === 'string' && /^(?:base64|image|input_image)/.test(record.type)
    )
  }
}

const join = (path: string, key: string | number): string => (path === '' ? String(key) : `${path}.${key}`)
