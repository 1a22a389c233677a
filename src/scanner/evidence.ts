/**
 * What the scanner knows about one text before the combiner weighs it: the views the classifier
 * scores (the normalised chunks of segments.ts and every payload decoded out of base64, hex or
 * percent-encoding) and the model-independent evidence (which pattern families matched in any
 * view, including ROT13, invisible characters, decoded payloads, the dense signals). The runtime
 * scanner and the training scripts both build evidence here, so the combiner's inputs mean the
 * same thing in both.
 */
import { decodePayloads, type PayloadEncoding, rot13 } from './decode-payloads'
import { hasInvisibleCharacters, isAscii, normalizeText } from './normalize'
import { PATTERN_FAMILIES } from './patterns'
import { chunkSpans } from './segments'
import { SIGNAL_NAMES, textSignals } from './signals'

/** The combiner's inputs, in slot order. */
export const EVIDENCE_LAYOUT: readonly string[] = [
  'classifier_document',
  'classifier_best',
  // Hinges of the best logit, so the combiner can trust a confident classifier more than a
  // linear weight on its logit would: on unseen sources a middling logit means little, a very
  // high one still means a lot.
  'classifier_best_above_0',
  'classifier_best_above_4',
  ...PATTERN_FAMILIES.map((family) => `pattern:${family.name}`),
  'invisible_characters',
  'encoded_payload',
  ...SIGNAL_NAMES.map((name) => `signal:${name}`),
]

/** Slot numbers of {@link EVIDENCE_LAYOUT}. */
export const SLOT = {
  document: 0,
  best: 1,
  bestAbove0: 2,
  bestAbove4: 3,
  firstPattern: 4,
  invisible: 4 + PATTERN_FAMILIES.length,
  encoded: 5 + PATTERN_FAMILIES.length,
  firstSignal: 6 + PATTERN_FAMILIES.length,
} as const

/** Writes the classifier's slots: its document logit and its best logit with the hinges. */
export function setClassifierEvidence(evidence: Float64Array, document: number, best: number): void {
  evidence[SLOT.document] = document
  evidence[SLOT.best] = best
  evidence[SLOT.bestAbove0] = Math.max(0, best)
  evidence[SLOT.bestAbove4] = Math.max(0, best - 4)
}

/** A decoded payload, normalised for the patterns and the classifier. */
export interface PayloadView {
  readonly encoding: PayloadEncoding
  readonly normalized: string
}

/** The views of one text. */
export interface TextViews {
  /** The whole text, normalised (what the patterns see). */
  readonly normalized: string
  /** Whether payloads were decoded, and so whether the ROT13 view is to be scanned too. */
  readonly decoded: boolean
  /** Normalised chunks, none empty; a short text is one chunk, its whole normalised text. */
  readonly chunks: string[]
  /** Chunk i spans `[spans[2i], spans[2i+1])` of the original text, white space trimmed. */
  readonly spans: number[]
  readonly payloads: PayloadView[]
}

const isSpaceCode = (code: number): boolean => code === 0x20 || (code >= 0x09 && code <= 0x0d)

/** Cuts, normalises and decodes `text`. */
export function viewsOf(text: string, maxChunk: number, decode: boolean): TextViews {
  const normalized = normalizeText(text)
  const chunks: string[] = []
  const spans: number[] = []
  const cut = chunkSpans(text, maxChunk)
  if (cut.count === 1) {
    if (normalized.length > 0) chunks.push(normalized)
    pushTrimmed(text, 0, text.length, spans)
  } else {
    for (let chunk = 0; chunk < cut.count; chunk++) {
      const start = cut.starts[chunk]!
      const end = cut.ends[chunk]!
      const piece = normalizeText(text.slice(start, end))
      if (piece.length === 0) continue
      chunks.push(piece)
      pushTrimmed(text, start, end, spans)
    }
  }
  const payloads: PayloadView[] = []
  if (decode) {
    for (const payload of decodePayloads(text)) {
      payloads.push({ encoding: payload.encoding, normalized: normalizeText(payload.text) })
    }
  }
  return { normalized, decoded: decode, chunks, spans, payloads }
}

function pushTrimmed(text: string, start: number, end: number, spans: number[]): void {
  let from = start
  let to = end
  while (from < to && isSpaceCode(text.charCodeAt(from))) from++
  while (to > from && isSpaceCode(text.charCodeAt(to - 1))) to--
  spans.push(from, to)
}

/**
 * Fills the pattern, invisible-character, payload and signal slots of `evidence` for `text` and
 * its `views`, and adds the indicator names (families, `encoded:*`, `invisible_characters`) to
 * `indicators`. The ROT13 view of ordinary text is gibberish to the classifier, so it gets the
 * patterns only; when they match there in ASCII text (English written in ROT13), the view joins
 * the decoded payloads the classifier scores. (ROT13 leaves other scripts alone, so a
 * non-ASCII match there is the plain text's own.)
 */
export function staticEvidence(
  text: string,
  views: TextViews,
  evidence: Float64Array,
  indicators: Set<string>,
): void {
  const ascii = isAscii(text)
  matchFamilies(views.normalized, undefined, evidence, indicators)
  for (const payload of views.payloads) {
    matchFamilies(payload.normalized, `encoded:${payload.encoding}`, evidence, indicators)
    if (payload.encoding !== 'url') evidence[SLOT.encoded] = 1
  }
  if (views.decoded) {
    // For ASCII text, rotating commutes with normalising (only letters move, and case and
    // spaces are all normalising does), so the normalised text is rotated instead, and only
    // when it holds the rotated spelling of an English hint (rotated.includes(hint) is exactly
    // normalized.includes(rot13(hint)), so the test needs no rotation).
    if (!ascii) matchFamilies(normalizeText(rot13(text)), 'encoded:rot13', evidence, indicators)
    else if (ROTATED_HINTS.some((hint) => views.normalized.includes(hint))) {
      const rotated = rot13(views.normalized)
      if (matchFamilies(rotated, 'encoded:rot13', evidence, indicators)) {
        views.payloads.push({ encoding: 'rot13', normalized: rotated })
      }
    }
  }
  if (!ascii && hasInvisibleCharacters(text)) {
    indicators.add('invisible_characters')
    evidence[SLOT.invisible] = 1
  }
  evidence.set(textSignals(text, views.normalized, views.chunks), SLOT.firstSignal)
}

/**
 * Words one of which any English injection written in ROT13 shows once decoded. The ROT13 view
 * of ordinary ASCII text is gibberish that contains none of them, so its eight pattern passes
 * are skipped for a dozen substring searches.
 */
const ENGLISH_HINTS = [
  ' the ',
  ' you',
  ' all ',
  ' and ',
  'ignor',
  'instruction',
  'prompt',
  'system',
  'previous',
  'mode',
  '<|',
  '[inst',
]
const ROTATED_HINTS = ENGLISH_HINTS.map(rot13)

/** Marks the families that match `normalized`; whether any did. */
function matchFamilies(
  normalized: string,
  via: string | undefined,
  evidence: Float64Array,
  indicators: Set<string>,
): boolean {
  let matched = false
  for (let index = 0; index < PATTERN_FAMILIES.length; index++) {
    const family = PATTERN_FAMILIES[index]!
    if (!family.pattern.test(normalized)) continue
    indicators.add(family.name)
    // An encoding is named only when it revealed a family the text's own view did not show.
    if (via !== undefined && evidence[SLOT.firstPattern + index] === 0) indicators.add(via)
    evidence[SLOT.firstPattern + index] = 1
    matched = true
  }
  return matched
}
